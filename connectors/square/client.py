"""The Square Connect API client: Bearer auth, a pinned Square-Version, retries, and cursor pagination.

    client = SquareClient(access_token="EAAA...")                  # or base_url="http://127.0.0.1:<port>"
    client.list_locations()                                        # every location (one request)
    for page in client.search_orders(["L1", "L2"], start, end):    # orders UPDATED in [start, end)
        page.records      # the orders, exactly as Square sent them (oldest update first)
        page.cursor       # Square's cursor for the next page, or None on the last page
    client.list_payments("L1", start, end)                         # payments CREATED in [start, end)
    client.list_refunds("L1", start, end)                          # refunds CREATED in [start, end)
    client.search_orders([...], start, end, cursor=saved)          # carry on from a saved cursor

Square's quirks the client follows:
- Orders are searched with POST /v2/orders/search and a JSON body; filtering on updated_at
  requires sorting on UPDATED_AT, and a search covers at most 10 locations. Payments and refunds
  are GET lists filtered on created_at (begin_time, end_time) and one location_id.
- A cursor is opaque and only valid with the very same filters: to resume, repeat the request
  with the saved cursor. An answer without a cursor is the last page.
- Errors come as `{"errors": [{"category", "code", "detail"}]}`; 429 is RATE_LIMITED.
Transient failures (connection errors, 5xx, 429) are retried with exponential backoff, waiting
Retry-After when given; the search POST is a read, so retrying it is safe. Anything else, or
running out of retries, raises SquareAPIError with Square's category and code. The access token
only travels in the Authorization header to the configured base URL: never logged, never in a
repr or an error message, and redirects are not followed.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

import requests

from connectors.http_retry import RetriesExhausted, VendorAPIError, is_retryable, send_with_retries

DEFAULT_BASE_URL = "https://connect.squareup.com"
SQUARE_VERSION = "2026-07-15"  # the API version the models were written against (changelog: connect-logs/2026-07-15)
BODY_EXCERPT_CHARS = 300
MAX_SEARCH_LOCATIONS = 10
ORDERS_PAGE_LIMIT = 500  # Square allows up to 1000 orders a page
LIST_PAGE_LIMIT = 100  # payments and refunds: at most 100 a page


class SquareAPIError(VendorAPIError):
    """A Square request that failed for good: status (None if no response), path, Square's first error."""

    def __init__(self, message: str, *, category: str | None = None, **failure):
        super().__init__(message, **failure)
        self.category = category


@dataclass(frozen=True)
class SquarePage:
    records: list[dict]
    cursor: str | None  # the next page's cursor; None on the last page
    url: str  # what was fetched (no credentials), for the landing file


def rfc3339(moment: datetime) -> str:
    """An aware datetime as Square's RFC 3339 UTC text."""
    if moment.tzinfo is None:
        raise ValueError("pass aware datetimes (UTC or with an offset) as Square time bounds")
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class SquareClient:
    def __init__(self, base_url: str = DEFAULT_BASE_URL, access_token: str = "", *,
                 square_version: str = SQUARE_VERSION, max_retries: int = 6, backoff_seconds: float = 0.5,
                 timeout: float = 30, orders_page_limit: int = ORDERS_PAGE_LIMIT,
                 list_page_limit: int = LIST_PAGE_LIMIT, session: requests.Session | None = None):
        if not access_token:
            raise ValueError("a Square access token is required")
        parts = urlsplit(base_url.strip().rstrip("/"))
        if not parts.scheme or not parts.netloc:
            raise ValueError("base_url must be an absolute URL such as https://connect.squareup.com")
        self.base_url = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        self.square_version = square_version
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout
        self.orders_page_limit = orders_page_limit
        self.list_page_limit = list_page_limit
        # One keep-alive session; the token lives only in its headers.
        self._session = session or requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {access_token}", "Square-Version": square_version,
                                      "Accept": "application/json"})

    def __repr__(self) -> str:
        return f"SquareClient({self.base_url!r}, square_version={self.square_version!r})"

    # ---- endpoints --------------------------------------------------------------------------
    def list_locations(self) -> list[dict]:
        """Every location of the seller (Square does not page this list)."""
        return self._records(self._request("GET", "/v2/locations", params=None), "/v2/locations", "locations")

    def search_orders(self, location_ids: list[str], updated_from: datetime, updated_to: datetime, *,
                      states: list[str] | None = None, limit: int | None = None,
                      cursor: str | None = None) -> Iterator[SquarePage]:
        """Pages of the orders of these locations updated in [updated_from, updated_to), oldest update first."""
        if not 1 <= len(location_ids) <= MAX_SEARCH_LOCATIONS:
            raise ValueError(f"Square searches 1 to {MAX_SEARCH_LOCATIONS} locations at a time")
        query: dict = {"filter": {"date_time_filter": {"updated_at": {"start_at": rfc3339(updated_from),
                                                                       "end_at": rfc3339(updated_to)}}},
                       "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}}
        if states:
            query["filter"]["state_filter"] = {"states": list(states)}
        body = {"location_ids": list(location_ids), "limit": limit or self.orders_page_limit, "query": query}
        while True:
            request = {**body, **({"cursor": cursor} if cursor else {})}
            payload = self._json(self._request("POST", "/v2/orders/search", json_body=request), "/v2/orders/search")
            records = payload.get("orders", [])  # Square leaves the key out when nothing matches
            if not isinstance(records, list):
                raise SquareAPIError("Square answered /v2/orders/search without an orders list", status=200,
                                     path="/v2/orders/search")
            cursor = payload.get("cursor") or None
            yield SquarePage(records, cursor, f"{self.base_url}/v2/orders/search")
            if cursor is None:
                return

    def list_payments(self, location_id: str, begin: datetime, end: datetime, *, limit: int | None = None,
                      cursor: str | None = None) -> Iterator[SquarePage]:
        """Pages of one location's payments created in [begin, end), oldest first."""
        return self._list("/v2/payments", "payments", location_id, begin, end, limit, cursor)

    def list_refunds(self, location_id: str, begin: datetime, end: datetime, *, limit: int | None = None,
                     cursor: str | None = None) -> Iterator[SquarePage]:
        """Pages of one location's payment refunds created in [begin, end), oldest first."""
        return self._list("/v2/refunds", "refunds", location_id, begin, end, limit, cursor)

    def _list(self, path: str, key: str, location_id: str, begin: datetime, end: datetime, limit: int | None,
              cursor: str | None) -> Iterator[SquarePage]:
        params = {"location_id": location_id, "begin_time": rfc3339(begin), "end_time": rfc3339(end),
                  "sort_order": "ASC", "limit": limit or self.list_page_limit}
        while True:
            request = {**params, **({"cursor": cursor} if cursor else {})}
            response = self._request("GET", path, params=request)
            records = self._records(response, path, key)
            cursor = self._json(response, path).get("cursor") or None
            yield SquarePage(records, cursor, response.url)
            if cursor is None:
                return

    # ---- one request, retried ---------------------------------------------------------------
    def _request(self, method: str, path: str, *, params: dict | None = None,
                 json_body: dict | None = None) -> requests.Response:
        url = f"{self.base_url}{path}"
        try:
            # the only POST is the orders search: a read, safe to repeat
            response = send_with_retries(self._session, method, url, vendor="Square", timeout=self.timeout,
                                         max_retries=self.max_retries, backoff_seconds=self.backoff_seconds,
                                         params=params, json=json_body)
        except RetriesExhausted as error:
            raise SquareAPIError(str(error), status=None, path=path) from None
        status = response.status_code
        if status < 300:
            return response
        if status < 400:
            target = urlsplit(response.headers.get("Location", "")).netloc or "elsewhere"
            raise SquareAPIError(f"Square redirected {method} {path} to {target} ({status}); not followed",
                                 status=status, path=path)
        body = self._excerpt(response.text)
        category, code, detail = self._first_error(response)
        what = f"{category}/{code}: {detail}" if code else body
        if status == 401:
            message = f"Square rejected the access token (401) for {method} {path}: {what}"
        elif status == 403:
            message = f"the access token lacks a permission Square requires (403) for {method} {path}: {what}"
        elif not is_retryable(status):
            message = f"Square answered {status} for {method} {path}: {what}"
        else:
            message = f"{method} {path} still failing after {self.max_retries} retries (HTTP {status}): {what}"
        raise SquareAPIError(message, status=status, path=path, body=body, category=category, code=code)

    def _json(self, response: requests.Response, path: str) -> dict:
        try:
            payload = response.json()
        except ValueError:
            raise SquareAPIError(f"Square answered {path} with a body that is not JSON", status=response.status_code,
                                 path=path, body=self._excerpt(response.text)) from None
        if not isinstance(payload, dict):
            raise SquareAPIError(f"Square answered {path} with JSON that is not an object",
                                 status=response.status_code, path=path, body=self._excerpt(response.text))
        return payload

    def _records(self, response: requests.Response, path: str, key: str) -> list[dict]:
        records = self._json(response, path).get(key, [])  # an empty list is left out by Square
        if not isinstance(records, list):
            raise SquareAPIError(f"Square answered {path} with a {key!r} that is not a list",
                                 status=response.status_code, path=path, body=self._excerpt(response.text))
        return records

    def _first_error(self, response: requests.Response) -> tuple[str | None, str | None, str | None]:
        try:
            first = (response.json().get("errors") or [{}])[0]
        except (ValueError, AttributeError, IndexError, TypeError):
            return None, None, None
        if not isinstance(first, dict):
            return None, None, None
        detail = first.get("detail")
        return first.get("category"), first.get("code"), self._excerpt(detail) if isinstance(detail, str) else None

    def _excerpt(self, text: str) -> str:
        token = self._session.headers.get("Authorization", "").removeprefix("Bearer ")
        if token:
            text = text.replace(token, "[redacted]")
        return text[:BODY_EXCERPT_CHARS]
