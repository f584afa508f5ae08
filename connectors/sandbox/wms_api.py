"""A fake 3PL WMS API on loopback, serving a WmsSandbox from memory (contract: connectors/wms/client.py).

Where a connector can tell the difference it behaves like the real one:
- auth by `Authorization: Bearer <api key>`: no key answers 401, a wrong key 401 too, and a key
  that is valid but not allowed (`forbidden_keys`) 403, in ShipBob's problem-details shape
  (`{"type", "title", "status", "detail"}`); the key is never echoed;
- GET /inventory/movements pages the movement feed in sequence order: `limit` 1..500 (default 100),
  `occurred_at_min` (inclusive) / `occurred_at_max` (exclusive) ISO 8601 bounds with an offset,
  and an opaque `since_cursor` (a cursor from another feed or garbage is a 400);
- GET /inventory/levels pages the levels with `page` (from 1) and `limit` 1..250 (default 50), and
  filters by `location`; an unknown query parameter is a 400 naming it;
- `fail_next(n)` answers the next n requests with 500 (an outage), or with 429 + Retry-After
  (`fail_next(n, 429, retry_after=0.01)`), optionally only `after` k good answers (a pull that dies
  half-way), and `throttle_every(k)` throttles every k-th request.

Paths are served under any prefix ending in them (the client's base URL may carry /2.0).

    with FakeWmsAPI(sandbox, "wms_key") as api:
        WmsClient(api.base_url, "wms_key").movements()
    api.request_log    # [LoggedWmsRequest(method, path, query, status), ...]
"""
from __future__ import annotations

import base64
import binascii
import bisect
from datetime import datetime, timezone
from typing import Any, NamedTuple

from connectors.sandbox.loopback import FakeVendorAPI

MOVEMENTS_DEFAULT_LIMIT, MOVEMENTS_MAX_LIMIT = 100, 500
LEVELS_DEFAULT_LIMIT, LEVELS_MAX_LIMIT = 50, 250
_CURSOR_PREFIX = "wms-feed:"


class LoggedWmsRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    status: int


class _Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(status, detail)
        self.status = status
        self.headers = headers or {}
        self.body = {"type": f"https://httpstatuses.io/{status}", "title": title, "status": status, "detail": detail}


def encode_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{sequence}".encode()).decode()


def _decode_cursor(value: str) -> int:
    try:
        text = base64.urlsafe_b64decode(value.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith(_CURSOR_PREFIX) or not text[len(_CURSOR_PREFIX):].isdigit():
        raise _Problem(400, "Bad Request", "since_cursor is not a cursor of this feed")
    return int(text[len(_CURSOR_PREFIX):])


def _instant(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Problem(400, "Bad Request", f"{name} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise _Problem(400, "Bad Request", f"{name} needs a UTC offset")
    return moment


def _limit(query: dict[str, str], default: int, maximum: int) -> int:
    raw = query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise _Problem(400, "Bad Request", f"limit must be an integer from 1 to {maximum}")
    return int(raw)


class FakeWmsAPI(FakeVendorAPI):
    server_version = "FakeWMS/1.0"

    def __init__(self, sandbox, api_key: str, *, host: str = "127.0.0.1", port: int = 0,
                 forbidden_keys: tuple[str, ...] = ()):
        super().__init__(host, port)
        self.sandbox = sandbox
        self._api_key = api_key
        self._forbidden = set(forbidden_keys)
        self.request_log: list[LoggedWmsRequest] = []
        self._failures: list[tuple[int, float | None] | None] = []  # None: answer that request normally
        self._throttle_every = 0
        self._requests = 0

    def __repr__(self) -> str:
        return f"FakeWmsAPI({self.base_url!r})"

    # ---- test hooks -------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 500, *, retry_after: float | None = None, after: int = 0) -> None:
        """Answer n requests with `status`, starting after `after` more requests are answered normally."""
        with self._lock:
            self._failures.extend([None] * after + [(status, retry_after)] * n)

    def throttle_every(self, k: int) -> None:
        """Answer every k-th request 429 (Retry-After: 0), as a rate limiter under load would (0 = off)."""
        with self._lock:
            self._throttle_every = k

    # ---- FakeVendorAPI ----------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], headers,
               body: bytes = b"") -> tuple[int, Any, dict[str, str]]:
        try:
            return 200, self._respond(method, path, query, headers), {}
        except _Problem as problem:
            return problem.status, problem.body, problem.headers

    def log_request(self, method: str, path: str, query: dict[str, str], status: int, headers) -> None:
        with self._lock:
            self.request_log.append(LoggedWmsRequest(method, path, query, status))

    def internal_error_body(self, error: Exception) -> Any:
        return {"type": "https://httpstatuses.io/500", "title": "Internal Server Error", "status": 500}

    # ---- routing ----------------------------------------------------------------------------
    def _respond(self, method: str, path: str, query: dict[str, str], headers) -> dict:
        with self._lock:
            self._requests += 1
            failure = self._failures.pop(0) if self._failures else None
            if failure is None and self._throttle_every and self._requests % self._throttle_every == 0:
                failure = (429, 0.0)
        if failure is not None:
            status, retry_after = failure
            extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            title = "Too Many Requests" if status == 429 else "Service Unavailable"
            raise _Problem(status, title, "injected failure", extra)
        self._authenticate(headers.get("Authorization"))
        if method != "GET":
            raise _Problem(405, "Method Not Allowed", f"{method} is not supported on {path}")
        if path.endswith("/inventory/movements"):
            return self._movements(query)
        if path.endswith("/inventory/levels"):
            return self._levels(query)
        raise _Problem(404, "Not Found", f"no resource at {path}")

    def _authenticate(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _Problem(401, "Unauthorized", "a Bearer token is required")
        if token in self._forbidden:
            raise _Problem(403, "Forbidden", "this token lacks the inventory_read scope")
        if token != self._api_key:
            raise _Problem(401, "Unauthorized", "the token is invalid or expired")

    @staticmethod
    def _known(query: dict[str, str], allowed: set[str]) -> None:
        unknown = sorted(set(query) - allowed)
        if unknown:
            raise _Problem(400, "Bad Request", f"unknown query parameter {unknown[0]}")

    def _movements(self, query: dict[str, str]) -> dict:
        self._known(query, {"limit", "since_cursor", "occurred_at_min", "occurred_at_max"})
        limit = _limit(query, MOVEMENTS_DEFAULT_LIMIT, MOVEMENTS_MAX_LIMIT)
        after = _decode_cursor(query["since_cursor"]) if query.get("since_cursor") else 0
        low = _instant("occurred_at_min", query["occurred_at_min"]) if "occurred_at_min" in query else None
        high = _instant("occurred_at_max", query["occurred_at_max"]) if "occurred_at_max" in query else None

        def in_window(event: dict) -> bool:
            at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).astimezone(timezone.utc)
            return (low is None or at >= low) and (high is None or at < high)

        events = self.sandbox.events
        window = self.listing(("movements", low, high), events, lambda: [e for e in events if in_window(e)])
        # the feed is in sequence order: the cursor's place by bisection
        start = bisect.bisect_right(window, after, key=lambda event: event["sequence"])
        page, has_more = window[start:start + limit], len(window) > start + limit
        return {"events": page, "has_more": has_more,
                "next_cursor": encode_cursor(page[-1]["sequence"]) if has_more else None}

    def _levels(self, query: dict[str, str]) -> dict:
        self._known(query, {"limit", "page", "location"})
        limit = _limit(query, LEVELS_DEFAULT_LIMIT, LEVELS_MAX_LIMIT)
        raw_page = query.get("page", "1")
        if not raw_page.isdigit() or int(raw_page) < 1:
            raise _Problem(400, "Bad Request", "page must be an integer from 1")
        page = int(raw_page)
        levels = [level for level in self.sandbox.levels
                  if not query.get("location") or level["location"] == query["location"]]
        chunk = levels[(page - 1) * limit:page * limit]
        return {"levels": chunk, "page": page, "next_page": page + 1 if page * limit < len(levels) else None}
