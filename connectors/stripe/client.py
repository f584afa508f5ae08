"""The Stripe API client: Bearer auth, a pinned Stripe-Version, retries, and list pagination.

    client = StripeClient(api_key="sk_test_...")                 # or base_url="http://127.0.0.1:<port>"
    for page in client.list_pages("/v1/balance_transactions", {"payout": "po_123", "limit": 100}):
        page.records      # the objects of `data`, exactly as Stripe sent them (newest first)
        page.has_more     # whether another page follows
        page.url          # the URL that was fetched
    client.balance_transactions(payout="po_123")                 # every object, all pages
    client.payouts(arrival_date_gte=..., arrival_date_lt=...)    # datetimes or Unix seconds

Pagination follows Stripe's cursor: the next page repeats the filters with
`starting_after=<id of the last object>` while `has_more` is true. Transient failures
(connection errors, 5xx, 429) are retried with exponential backoff, waiting Retry-After when the
response has one; anything else, or running out of retries, raises StripeAPIError carrying
Stripe's error type/code/message. The API key travels only in the Authorization header to the
configured base URL: never logged, never in a repr or an error, redirects are not followed.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import requests

from connectors.http_retry import RetriesExhausted, VendorAPIError, get_with_retries, is_retryable, path_of

DEFAULT_STRIPE_VERSION = "2023-08-16"
BODY_EXCERPT_CHARS = 300
MAX_LIMIT = 100


class StripeAPIError(VendorAPIError):
    """A Stripe request that failed for good: status (None if no response), path, Stripe's error fields."""

    def __init__(self, message: str, *, error_type: str | None = None, request_id: str | None = None, **failure):
        super().__init__(message, **failure)
        self.error_type = error_type
        self.request_id = request_id


@dataclass(frozen=True)
class StripePage:
    records: list[dict]
    has_more: bool
    url: str


def _unix(value: datetime | int) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("pass aware datetimes (UTC or with an offset) as Stripe time bounds")
        return int(value.timestamp())
    return int(value)


def _range(params: dict, name: str, gte, lt) -> None:
    if gte is not None:
        params[f"{name}[gte]"] = _unix(gte)
    if lt is not None:
        params[f"{name}[lt]"] = _unix(lt)


class StripeClient:
    def __init__(self, base_url: str = "https://api.stripe.com", api_key: str = "", *,
                 stripe_version: str = DEFAULT_STRIPE_VERSION, max_retries: int = 6, backoff_seconds: float = 0.5,
                 timeout: float = 30, session: requests.Session | None = None):
        if not api_key:
            raise ValueError("a Stripe API key is required")
        parts = urlsplit(base_url.strip().rstrip("/"))
        if not parts.scheme or not parts.netloc:
            raise ValueError("base_url must be an absolute URL such as https://api.stripe.com")
        self.base_url = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        self.stripe_version = stripe_version
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout
        self._api_key = api_key
        self._session = session or requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {api_key}", "Stripe-Version": stripe_version,
                                      "Accept": "application/json"})

    def __repr__(self) -> str:
        return f"StripeClient({self.base_url!r}, stripe_version={self.stripe_version!r})"

    # ---- pagination -------------------------------------------------------------------------
    def list_pages(self, path: str, params: dict | None = None) -> Iterator[StripePage]:
        """Every page of a list endpoint, newest objects first, following starting_after while has_more."""
        params = dict(params or {})
        url = f"{self.base_url}/{path.lstrip('/')}"
        while True:
            response = self._get(url, params)
            payload = self._json(response, url)
            data = payload.get("data") if isinstance(payload, dict) else None
            if not isinstance(data, list) or payload.get("object") != "list":
                raise StripeAPIError(f"Stripe answered {self._path(url)} without a list object",
                                     status=response.status_code, path=self._path(url),
                                     body=self._excerpt(response.text))
            has_more = bool(payload.get("has_more"))
            yield StripePage(records=data, has_more=has_more, url=response.url)
            if not has_more:
                return
            if not data or not isinstance(data[-1], dict) or not data[-1].get("id"):
                raise StripeAPIError(f"Stripe said has_more for {self._path(url)} but gave no last id to continue from",
                                     status=response.status_code, path=self._path(url))
            if params.get("starting_after") == data[-1]["id"]:
                raise StripeAPIError(f"Stripe pagination of {self._path(url)} did not advance",
                                     status=response.status_code, path=self._path(url))
            params = {**params, "starting_after": data[-1]["id"]}
            params.pop("ending_before", None)

    def list_all(self, path: str, params: dict | None = None) -> list[dict]:
        return [record for page in self.list_pages(path, params) for record in page.records]

    # ---- endpoints --------------------------------------------------------------------------
    def balance_transactions(self, *, payout: str | None = None, type: str | None = None,  # noqa: A002
                             created_gte=None, created_lt=None, limit: int = MAX_LIMIT) -> list[dict]:
        params: dict = {"limit": limit}
        if payout:
            params["payout"] = payout
        if type:
            params["type"] = type
        _range(params, "created", created_gte, created_lt)
        return self.list_all("/v1/balance_transactions", params)

    def payouts(self, *, arrival_date_gte=None, arrival_date_lt=None, created_gte=None, created_lt=None,
                status: str | None = None, limit: int = MAX_LIMIT) -> list[dict]:
        params: dict = {"limit": limit}
        if status:
            params["status"] = status
        _range(params, "arrival_date", arrival_date_gte, arrival_date_lt)
        _range(params, "created", created_gte, created_lt)
        return self.list_all("/v1/payouts", params)

    def charges(self, *, created_gte=None, created_lt=None, limit: int = MAX_LIMIT) -> list[dict]:
        return self._created_list("/v1/charges", created_gte, created_lt, limit)

    def refunds(self, *, created_gte=None, created_lt=None, limit: int = MAX_LIMIT) -> list[dict]:
        return self._created_list("/v1/refunds", created_gte, created_lt, limit)

    def disputes(self, *, created_gte=None, created_lt=None, limit: int = MAX_LIMIT) -> list[dict]:
        return self._created_list("/v1/disputes", created_gte, created_lt, limit)

    def _created_list(self, path: str, gte, lt, limit: int) -> list[dict]:
        params: dict = {"limit": limit}
        _range(params, "created", gte, lt)
        return self.list_all(path, params)

    # ---- one request, retried ---------------------------------------------------------------
    def _get(self, url: str, params: dict | None) -> requests.Response:
        path = self._path(url)
        try:
            response = get_with_retries(self._session, url, params, vendor="Stripe", timeout=self.timeout,
                                        max_retries=self.max_retries, backoff_seconds=self.backoff_seconds)
        except RetriesExhausted as error:
            raise StripeAPIError(str(error), status=None, path=path) from None
        status = response.status_code
        if status < 300:
            return response
        if status < 400:
            raise StripeAPIError(f"Stripe redirected GET {path} ({status}); redirects are not followed",
                                 status=status, path=path)
        body = self._excerpt(response.text)
        error_fields = self._error_fields(response)
        message = error_fields.get("message") or body
        if is_retryable(status):
            what = f"still failing after {self.max_retries} retries (HTTP {status})"
        else:
            what = "rejected the API key" if status == 401 else f"answered {status}"
        raise StripeAPIError(f"Stripe GET {path} {what}: {message}", status=status, path=path, body=body,
                             **error_fields_kwargs(error_fields))

    def _error_fields(self, response: requests.Response) -> dict:
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        fields = {k: self._redact(str(error[k])) for k in ("type", "code", "message") if error.get(k)}
        if response.headers.get("Request-Id"):
            fields["request_id"] = response.headers["Request-Id"]
        return fields

    def _json(self, response: requests.Response, url: str):
        try:
            return response.json()
        except ValueError:
            raise StripeAPIError(f"Stripe answered GET {self._path(url)} with a body that is not JSON",
                                 status=response.status_code, path=self._path(url),
                                 body=self._excerpt(response.text)) from None

    _path = staticmethod(path_of)

    def _redact(self, text: str) -> str:
        text = text.replace(self._api_key, "[redacted]")
        # Stripe's own 401 message echoes a masked key (sk_test_****1234); keep only the prefix.
        if len(self._api_key) > 4:
            text = text.replace(self._api_key[-4:], "****")
        return text

    def _excerpt(self, text: str) -> str:
        return self._redact(text)[:BODY_EXCERPT_CHARS]


def error_fields_kwargs(fields: dict) -> dict:
    return {"error_type": fields.get("type"), "code": fields.get("code"), "request_id": fields.get("request_id")}
