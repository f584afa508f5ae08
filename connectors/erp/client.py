"""The ERP REST API client: Bearer auth, OData-style paging, retries, and idempotent journal posting.

    client = ErpClient("https://erp.acme.internal/api/v1", api_token)      # or http://127.0.0.1:<port>/api/v1
    for page in client.get_pages("items"):      # also legal-entities, locations, gl-accounts
        page.records      # the `value` objects, exactly as the ERP sent them
        page.next_url     # @odata.nextLink, or None on the last page
    client.post_journal(batch)                  # JournalBatch or its JSON dict -> JournalPostResult

The API (OData v4 flavour, as modern ERPs serve it):
- GET /items, /legal-entities, /locations, /gl-accounts with `$top` (page size, 1..1000) and
  `$skip`; the answer is `{"@odata.context": ..., "value": [...], "@odata.nextLink": <url>}`, the
  link present while more records follow. Amounts are strings (`Accept: application/json;
  IEEE754Compatible=true`), and the client reads any JSON float as its text anyway.
- POST /journal-batches with an `Idempotency-Key` header (the batch id): 201 with the posted batch
  the first time, 200 with the same body when the same batch is posted again, 409 when the key is
  reused for a different batch, 422 when the ERP rejects it (unbalanced, unknown account).
- Errors are `{"error": {"code": ..., "message": ...}}`; 401 for a bad token, 403 without the scope.

An ERP is self-hosted: there is no public production endpoint, so `base_url` is required in
production (suggested setting ERP_BASE_URL). The default, https://erp.example.invalid/api/v1,
is a reserved name that never resolves: a client left on it fails on its first request, before
any network traffic, saying so.

Transient failures (connection errors, 5xx, 429) are retried with backoff, waiting Retry-After when
given; POSTs too, which the Idempotency-Key makes safe. The token travels only in the Authorization
header to the configured host: never logged, never in a repr or error; redirects are not followed.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests

from connectors.erp.models import JournalBatch
from connectors.http_retry import (Page, RetriesExhausted, VendorAPIError, get_with_retries, is_retryable, path_of,
                                   send_with_retries)

DEFAULT_BASE_URL = "https://erp.example.invalid/api/v1"
BODY_EXCERPT_CHARS = 300
DEFAULT_PAGE_SIZE = 200
RESOURCES = ("items", "legal-entities", "locations", "gl-accounts")


class ErpAPIError(VendorAPIError):
    """An ERP request that failed for good: status (None if no response), path, the ERP's error code."""


@dataclass(frozen=True)
class JournalPostResult:
    created: bool  # False: the ERP had this batch already (a replay), nothing was posted twice
    status: int
    body: dict


class ErpClient:
    def __init__(self, base_url: str = DEFAULT_BASE_URL, api_token: str = "", *, max_retries: int = 6,
                 backoff_seconds: float = 0.5, timeout: float = 30, session: requests.Session | None = None):
        if not api_token:
            raise ValueError("an ERP API token is required")
        parts = urlsplit(base_url.strip().rstrip("/"))
        if not parts.scheme or not parts.netloc:
            raise ValueError("base_url must be an absolute URL such as https://erp.acme.internal/api/v1")
        self.base_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout
        self._token = api_token
        self._session = session or requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {api_token}",
                                      "Accept": "application/json;IEEE754Compatible=true"})

    def __repr__(self) -> str:
        return f"ErpClient({self.base_url!r})"

    # ---- reference data ---------------------------------------------------------------------
    def get_pages(self, resource: str, *, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[Page]:
        """Every page of one collection, following @odata.nextLink."""
        if resource not in RESOURCES:
            raise ValueError(f"unknown ERP resource {resource!r}; expected one of {RESOURCES}")
        url, params = f"{self.base_url}/{resource}", {"$top": page_size, "$skip": 0}
        while url:
            response = self._checked(self._get(url, params), "GET", url)
            payload = self._json(response, url)
            records = payload.get("value") if isinstance(payload, dict) else None
            if not isinstance(records, list):
                raise ErpAPIError(f"ERP answered {path_of(url)} without a 'value' list", status=response.status_code,
                                  path=path_of(url), body=self._excerpt(response.text))
            link = payload.get("@odata.nextLink")
            next_url = self._on_this_host(link) if link else None
            if next_url == response.url:
                raise ErpAPIError(f"ERP paging of {path_of(url)} did not advance", status=response.status_code,
                                  path=path_of(url))
            yield Page(records=records, url=response.url, next_url=next_url)
            url, params = next_url, None

    def list_all(self, resource: str, **options) -> list[dict]:
        return [record for page in self.get_pages(resource, **options) for record in page.records]

    # ---- postings ---------------------------------------------------------------------------
    def post_journal(self, batch: JournalBatch | dict) -> JournalPostResult:
        """Post one journal batch, idempotently: posting the same batch again changes nothing in the ERP."""
        batch = batch if isinstance(batch, JournalBatch) else JournalBatch.model_validate(batch)
        url = f"{self.base_url}/journal-batches"
        body = json.dumps(batch.to_json(), sort_keys=True).encode()
        response = self._checked(self._post(url, body, batch.batch_id), "POST", url)
        return JournalPostResult(created=response.status_code == 201, status=response.status_code,
                                 body=self._json(response, url))

    # ---- requests ---------------------------------------------------------------------------
    def _usable(self, url: str) -> None:
        if urlsplit(url).hostname and urlsplit(url).hostname.endswith(".invalid"):
            raise ErpAPIError("no ERP base URL configured: the ERP is self-hosted, pass base_url "
                              "(e.g. from ERP_BASE_URL)", status=None, path=path_of(url))

    def _get(self, url: str, params: dict | None) -> requests.Response:
        self._usable(url)
        try:
            return get_with_retries(self._session, url, params, vendor="ERP", timeout=self.timeout,
                                    max_retries=self.max_retries, backoff_seconds=self.backoff_seconds)
        except RetriesExhausted as error:
            raise ErpAPIError(str(error), status=None, path=path_of(url)) from None

    def _post(self, url: str, body: bytes, idempotency_key: str) -> requests.Response:
        """POST with the same retries as GET: safe because the ERP dedupes on the Idempotency-Key."""
        self._usable(url)
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key}
        try:
            return send_with_retries(self._session, "POST", url, vendor="ERP", timeout=self.timeout,
                                     max_retries=self.max_retries, backoff_seconds=self.backoff_seconds,
                                     data=body, headers=headers)
        except RetriesExhausted as error:
            raise ErpAPIError(str(error), status=None, path=path_of(url)) from None

    def _checked(self, response: requests.Response, method: str, url: str) -> requests.Response:
        status, path = response.status_code, path_of(url)
        if status < 300:
            return response
        if status < 400:
            raise ErpAPIError(f"ERP redirected {method} {path} ({status}); redirects are not followed",
                              status=status, path=path)
        body = self._excerpt(response.text)
        code, message = self._error(response)
        if status == 401:
            what = "rejected the API token (401)"
        elif status == 403:
            what = "refused access with this API token (403)"
        elif is_retryable(status):
            what = f"still failing after {self.max_retries} retries (HTTP {status})"
        else:
            what = f"answered {status}"
        raise ErpAPIError(f"ERP {what} for {method} {path}: {message or body}", status=status, path=path,
                          body=body, code=code)

    def _error(self, response: requests.Response) -> tuple[str | None, str | None]:
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            return None, None
        return error.get("code"), self._redact(str(error.get("message") or "")) or None

    def _json(self, response: requests.Response, url: str):
        try:
            # JSON floats keep their text: amounts are exact decimals, not binary floats.
            return json.loads(response.text, parse_float=str)
        except ValueError:
            raise ErpAPIError(f"ERP answered {path_of(url)} with a body that is not JSON", status=response.status_code,
                              path=path_of(url), body=self._excerpt(response.text)) from None

    def _on_this_host(self, url: str) -> str:
        # nextLinks are followed on the configured host only: the token goes nowhere else.
        parts = urlsplit(url)
        return urlunsplit((*urlsplit(self.base_url)[:2], parts.path, parts.query, ""))

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "[redacted]")

    def _excerpt(self, text: str) -> str:
        return self._redact(text)[:BODY_EXCERPT_CHARS]
