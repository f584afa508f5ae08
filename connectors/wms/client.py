"""The 3PL WMS API client: Bearer auth, retries, the cursor-paged movement feed and inventory levels.

    client = WmsClient(api_key="...")                        # or base_url="http://127.0.0.1:<port>"
    for page in client.movement_pages(occurred_at_min=start, occurred_at_max=end):
        page.records      # movement event dicts, exactly as the WMS sent them (oldest first)
        page.url          # the URL that was fetched
        page.next_url     # the next page (it carries since_cursor), or None on the last page
    client.resume_pages(saved_next_url, "events")            # carry on from a saved next-page URL
    client.inventory_levels(location="WH-NJ")                # every level record, all pages

The vendor: the 3PL runs its WMS behind a REST API in ShipBob's style (Bearer personal access
token, JSON, 429 with Retry-After when throttled), so the base URL defaults to ShipBob's production
API, https://api.shipbob.com/2.0. ShipBob's public API has no movement ledger, so the two
endpoints below are the contract omnirecon asks of its 3PL (a 3PL on another WMS exposes the same
paths through its integration layer; point base_url at it):

- GET /inventory/movements?occurred_at_min=&occurred_at_max=&since_cursor=&limit= (limit 1..500):
  `{"events": [...], "next_cursor": "<opaque>" | null, "has_more": bool}`, events in the order the
  WMS recorded them (sequence ascending). The cursor is opaque: the next page repeats the filters
  with since_cursor=<next_cursor>. Time bounds are ISO 8601 with offset, min inclusive, max exclusive.
- GET /inventory/levels?location=&page=&limit= (page from 1, limit 1..250):
  `{"levels": [...], "page": n, "next_page": n + 1 | null}`.

Transient failures (connection errors, 5xx, 429) are retried with backoff, waiting Retry-After when
given; anything else raises WmsAPIError. The key travels only in the Authorization header to the
configured host: never logged, never in a repr or an error, redirects are not followed.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from connectors.http_retry import Page, RetriesExhausted, VendorAPIError, get_with_retries, is_retryable, path_of

DEFAULT_BASE_URL = "https://api.shipbob.com/2.0"
BODY_EXCERPT_CHARS = 300
MOVEMENTS_MAX_LIMIT = 500
LEVELS_MAX_LIMIT = 250


class WmsAPIError(VendorAPIError):
    """A WMS request that failed for good: status (None if no response), path, body excerpt."""


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("pass aware datetimes as WMS time bounds")
    return value.isoformat()


class WmsClient:
    def __init__(self, base_url: str = DEFAULT_BASE_URL, api_key: str = "", *, max_retries: int = 6,
                 backoff_seconds: float = 0.5, timeout: float = 30, session: requests.Session | None = None):
        if not api_key:
            raise ValueError("a WMS API key is required")
        parts = urlsplit(base_url.strip().rstrip("/"))
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"base_url must be an absolute URL such as {DEFAULT_BASE_URL}")
        self.base_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout
        self._api_key = api_key
        self._session = session or requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {api_key}", "Accept": "application/json"})

    def __repr__(self) -> str:
        return f"WmsClient({self.base_url!r})"

    # ---- endpoints --------------------------------------------------------------------------
    def movement_pages(self, *, occurred_at_min: datetime | None = None, occurred_at_max: datetime | None = None,
                       limit: int = MOVEMENTS_MAX_LIMIT) -> Iterator[Page]:
        params: dict = {"limit": limit}
        if occurred_at_min is not None:
            params["occurred_at_min"] = _iso(occurred_at_min)
        if occurred_at_max is not None:
            params["occurred_at_max"] = _iso(occurred_at_max)
        return self._pages(self.url_for("inventory/movements"), params, "events")

    def level_pages(self, *, location: str | None = None, limit: int = LEVELS_MAX_LIMIT) -> Iterator[Page]:
        params: dict = {"limit": limit, "page": 1}
        if location:
            params["location"] = location
        return self._pages(self.url_for("inventory/levels"), params, "levels")

    def movements(self, **filters) -> list[dict]:
        return [record for page in self.movement_pages(**filters) for record in page.records]

    def inventory_levels(self, **filters) -> list[dict]:
        return [record for page in self.level_pages(**filters) for record in page.records]

    def get_pages(self, path: str, params: dict, key: str) -> Iterator[Page]:
        """Any list endpoint (path relative to the base URL), for the generic resumable extractor."""
        return self._pages(self.url_for(path), dict(params), key)

    def resume_pages(self, next_url: str, key: str) -> Iterator[Page]:
        """The pages from a saved next-page URL on (it carries the filters and the cursor)."""
        return self._pages(self._on_this_host(next_url), None, key)

    def url_for(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    # ---- pagination -------------------------------------------------------------------------
    def _pages(self, url: str, params: dict | None, key: str) -> Iterator[Page]:
        while url:
            response = self._get(url, params)
            payload = self._json(response, url)
            records = payload.get(key) if isinstance(payload, dict) else None
            if not isinstance(records, list):
                raise WmsAPIError(f"WMS answered {path_of(url)} without an {key!r} list", status=response.status_code,
                                  path=path_of(url), body=self._excerpt(response.text))
            next_url = self._next_url(response.url, payload)
            if next_url == response.url:
                raise WmsAPIError(f"WMS pagination of {path_of(url)} did not advance", status=response.status_code,
                                  path=path_of(url))
            yield Page(records=records, url=response.url, next_url=next_url)
            url, params = next_url, None

    def _next_url(self, url: str, payload: dict) -> str | None:
        """The next page: the same query with since_cursor (movements) or page (levels) moved on."""
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if "next_cursor" in payload or "has_more" in payload:
            if not payload.get("has_more") or not payload.get("next_cursor"):
                return None
            query["since_cursor"] = payload["next_cursor"]
        else:
            if not payload.get("next_page"):
                return None
            query["page"] = str(int(payload["next_page"]))
        return self._on_this_host(urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), "")))

    def _on_this_host(self, url: str) -> str:
        # Saved and computed next pages are followed on the configured host only: the key goes nowhere else.
        parts = urlsplit(url)
        return urlunsplit((*urlsplit(self.base_url)[:2], parts.path, parts.query, ""))

    # ---- one request, retried ---------------------------------------------------------------
    def _get(self, url: str, params: dict | None) -> requests.Response:
        path = path_of(url)
        try:
            response = get_with_retries(self._session, url, params, vendor="WMS", timeout=self.timeout,
                                        max_retries=self.max_retries, backoff_seconds=self.backoff_seconds)
        except RetriesExhausted as error:
            raise WmsAPIError(str(error), status=None, path=path) from None
        status = response.status_code
        if status < 300:
            return response
        if status < 400:
            raise WmsAPIError(f"WMS redirected GET {path} ({status}); redirects are not followed",
                              status=status, path=path)
        body = self._excerpt(response.text)
        if status in (401, 403):
            what = "rejected the API key" if status == 401 else "refused access with this API key"
            raise WmsAPIError(f"WMS {what} ({status}) for GET {path}: {body}", status=status, path=path, body=body)
        if is_retryable(status):
            raise WmsAPIError(f"WMS GET {path} still failing after {self.max_retries} retries (HTTP {status}): {body}",
                              status=status, path=path, body=body)
        raise WmsAPIError(f"WMS answered {status} for GET {path}: {body}", status=status, path=path, body=body)

    def _json(self, response: requests.Response, url: str):
        try:
            return response.json()
        except ValueError:
            raise WmsAPIError(f"WMS answered GET {path_of(url)} with a body that is not JSON",
                              status=response.status_code, path=path_of(url),
                              body=self._excerpt(response.text)) from None

    def _excerpt(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted]")[:BODY_EXCERPT_CHARS]
