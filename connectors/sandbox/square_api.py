"""A fake Square Connect API on loopback, serving the sandbox stores' Square account from memory.

It behaves like the real API where a connector can tell the difference:

- auth by `Authorization: Bearer <access token>`; a missing or wrong token answers 401
  AUTHENTICATION_ERROR/UNAUTHORIZED; `scopes` can withhold PAYMENTS_READ or ORDERS_READ, which
  answers 403 INSUFFICIENT_SCOPES. The Square-Version header is optional (Square then uses the
  application's version) and is echoed back;
- GET /v2/locations answers every location in one response (Square does not page it);
- POST /v2/orders/search takes a JSON body: `location_ids` (1 to 10), `limit` (1..1000, default
  500), `cursor`, `return_entries`, `query.filter.date_time_filter.<created_at|updated_at|closed_at>
  {start_at, end_at}` (start inclusive, end exclusive), `query.filter.state_filter.states`, and
  `query.sort {sort_field, sort_order}`. As on Square, a date_time_filter on a field requires
  sorting on that same field (400 otherwise); the default order is DESC;
- GET /v2/payments and /v2/refunds filter on created_at with `begin_time` / `end_time`, and take
  `location_id`, `sort_order` (default DESC), `limit` (1..100, default 100) and `cursor`;
- a cursor is opaque and bound to the request that produced it: reusing it with other filters,
  or a made-up one, answers 400 INVALID_CURSOR. The last page has no cursor;
- errors use Square's shape `{"errors": [{"category", "code", "detail", "field"}]}`.

Usage:
    with FakeSquareAPI(pos_sandbox, "EAAAsandbox...") as api:     # started on a free port
        SquareClient(api.base_url, "EAAAsandbox...").list_locations()
    api.request_log   # [LoggedSquareRequest(method, path, query, body, status, square_version), ...]
    api.fail_next(2)  # the next 2 requests answer 500; fail_next(1, 429, retry_after=0.01) throttles
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
from datetime import datetime
from typing import Any, NamedTuple

from connectors.sandbox.loopback import FakeVendorAPI

ORDERS_DEFAULT_LIMIT, ORDERS_MAX_LIMIT = 500, 1000
LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT = 100, 100
MAX_LOCATIONS = 10
ALL_SCOPES = frozenset({"MERCHANT_PROFILE_READ", "ORDERS_READ", "PAYMENTS_READ"})
ENDPOINT_SCOPES = {"/v2/locations": "MERCHANT_PROFILE_READ", "/v2/orders/search": "ORDERS_READ",
                   "/v2/payments": "PAYMENTS_READ", "/v2/refunds": "PAYMENTS_READ"}
LIST_PARAMS = {"/v2/payments": {"begin_time", "end_time", "sort_order", "cursor", "location_id", "limit", "total",
                                "last_4", "card_brand"},
               "/v2/refunds": {"begin_time", "end_time", "sort_order", "cursor", "location_id", "limit", "status",
                               "source_type"}}


class LoggedSquareRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    body: dict | None
    status: int
    square_version: str | None


class SquareError(Exception):
    def __init__(self, status: int, category: str, code: str, detail: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(status, detail)
        self.status = status
        self.headers = headers or {}
        error = {"category": category, "code": code, "detail": detail}
        if field:
            error["field"] = field
        self.body = {"errors": [error]}


def _bad_request(code: str, detail: str, field: str | None = None) -> SquareError:
    return SquareError(400, "INVALID_REQUEST_ERROR", code, detail, field=field)


def _instant(value: Any, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise _bad_request("INVALID_TIME", f"Invalid RFC 3339 timestamp: {value!r}", field) from None
    if moment.tzinfo is None:
        raise _bad_request("INVALID_TIME", f"Timestamp {value!r} has no time zone offset", field)
    return moment


class FakeSquareAPI(FakeVendorAPI):
    server_version = "FakeSquare/1.0"

    def __init__(self, sandbox, access_token: str, *, host: str = "127.0.0.1", port: int = 0,
                 scopes: frozenset[str] = ALL_SCOPES):
        """`sandbox` is anything with `locations`, `orders`, `payments`, `refunds` lists of payload dicts
        (connectors.sandbox.channels.pos.PosSandbox)."""
        super().__init__(host, port)
        self.sandbox = sandbox
        self.scopes = frozenset(scopes)
        self._access_token = access_token
        self.request_log: list[LoggedSquareRequest] = []
        self._failures: list[tuple[int, float | None]] = []
        self._ids = itertools.count(1)
        self._current = threading.local()  # the request body, parsed, for log_request (same thread)

    def __repr__(self) -> str:  # the token stays out of reprs
        return f"FakeSquareAPI({self.base_url!r})"

    # ---- FakeVendorAPI hooks ------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], headers,
               body: bytes = b"") -> tuple[int, Any, dict[str, str]]:
        try:  # logged as sent, even when the request is refused before it is read
            self._current.body = json.loads(body) if body else None
        except ValueError:
            self._current.body = None
        try:
            status, answer = self._respond(method, path, query, headers, body)
            extra: dict[str, str] = {}
        except SquareError as error:
            status, answer, extra = error.status, error.body, error.headers
        response_headers = {"Square-Version": headers.get("Square-Version") or "2026-07-15",
                            "X-Request-Id": f"fake-{next(self._ids):08d}", **extra}
        return status, answer, response_headers

    def log_request(self, method: str, path: str, query: dict[str, str], status: int, headers) -> None:
        entry = LoggedSquareRequest(method, path, dict(query), getattr(self._current, "body", None), status,
                                    headers.get("Square-Version"))
        with self._lock:
            self.request_log.append(entry)

    def internal_error_body(self, error: Exception) -> Any:
        return {"errors": [{"category": "API_ERROR", "code": "INTERNAL_SERVER_ERROR",
                            "detail": f"Internal error ({type(error).__name__})"}]}

    def fail_next(self, n: int, status: int = 500, *, retry_after: float | None = None) -> None:
        """Answer the next n requests with `status` (500 outage, 429 rate limit, ...), whatever they ask."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * n)

    # ---- routing ------------------------------------------------------------------------------
    def _respond(self, method: str, path: str, query: dict[str, str], headers, body: bytes) -> tuple[int, Any]:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            self._fail(*failure)
        self._authenticate(headers.get("Authorization"))
        route = (method, path.rstrip("/"))
        if route[1] in ENDPOINT_SCOPES and ENDPOINT_SCOPES[route[1]] not in self.scopes:
            raise SquareError(403, "AUTHENTICATION_ERROR", "INSUFFICIENT_SCOPES",
                              f"The merchant has not given your application sufficient permissions to do that. "
                              f"The following scopes are required: {ENDPOINT_SCOPES[route[1]]}.")
        if route == ("GET", "/v2/locations"):
            return 200, {"locations": list(self.sandbox.locations)}
        if route == ("POST", "/v2/orders/search"):
            return 200, self._search_orders(self._json_body(body))
        if route[0] == "GET" and route[1] in LIST_PARAMS:
            records = self.sandbox.payments if route[1] == "/v2/payments" else self.sandbox.refunds
            return 200, self._list(route[1], records, query)
        raise SquareError(404, "INVALID_REQUEST_ERROR", "NOT_FOUND", f"API endpoint for URL path `{path}` and "
                          f"HTTP method `{method}` is not found.")

    def _fail(self, status: int, retry_after: float | None) -> None:
        extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        if status == 429:
            raise SquareError(429, "RATE_LIMIT_ERROR", "RATE_LIMITED", "Rate limited.", headers=extra)
        if status >= 500:
            raise SquareError(status, "API_ERROR", "INTERNAL_SERVER_ERROR", "An internal error has occurred, "
                              "and the API was unable to service your request.", headers=extra)
        raise SquareError(status, "INVALID_REQUEST_ERROR", "BAD_REQUEST", "Injected failure", headers=extra)

    def _authenticate(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or token.strip() != self._access_token:
            # Square never says whether the token was missing, malformed or unknown.
            raise SquareError(401, "AUTHENTICATION_ERROR", "UNAUTHORIZED", "This request could not be authorized.")

    def _json_body(self, body: bytes) -> dict:
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            raise _bad_request("INVALID_CONTENT_TYPE", "The request body is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise _bad_request("INVALID_REQUEST_ERROR", "The request body must be a JSON object.")
        return parsed

    # ---- paging -------------------------------------------------------------------------------
    @staticmethod
    def _fingerprint(request: dict) -> str:
        return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:16]

    def _page(self, matching: list[dict], request: dict, cursor: str | None,
              limit: int) -> tuple[list[dict], str | None]:
        fingerprint = self._fingerprint(request)
        offset = 0
        if cursor:
            try:
                state = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
                offset, bound_to = int(state["o"]), state["f"]
            except (ValueError, KeyError, TypeError):
                raise _bad_request("INVALID_CURSOR", "The pagination cursor is invalid.", "cursor") from None
            if bound_to != fingerprint or offset < 0:
                raise _bad_request("INVALID_CURSOR", "The pagination cursor does not match the request it is "
                                   "used with.", "cursor")
        page = matching[offset:offset + limit]
        if offset + limit >= len(matching):
            return page, None
        token = json.dumps({"o": offset + limit, "f": fingerprint}, separators=(",", ":")).encode()
        return page, base64.urlsafe_b64encode(token).decode().rstrip("=")

    @staticmethod
    def _limit(value: Any, default: int, maximum: int) -> int:
        if value is None:
            return default
        try:
            limit = int(value)
        except (TypeError, ValueError):
            raise _bad_request("INVALID_VALUE", f"Invalid limit {value!r}", "limit") from None
        if not 1 <= limit <= maximum:
            raise _bad_request("INVALID_VALUE", f"limit must be between 1 and {maximum}", "limit")
        return limit

    @staticmethod
    def _sort_order(value: Any, field: str) -> bool:
        """True for descending (Square's default)."""
        value = (value or "DESC").upper()
        if value not in ("ASC", "DESC"):
            raise _bad_request("INVALID_SORT_ORDER", f"Invalid sort order {value!r}", field)
        return value == "DESC"

    # ---- endpoints ----------------------------------------------------------------------------
    def _search_orders(self, body: dict) -> dict:
        location_ids = body.get("location_ids")
        if not isinstance(location_ids, list) or not 1 <= len(location_ids) <= MAX_LOCATIONS:
            raise _bad_request("INVALID_VALUE", f"location_ids must list 1 to {MAX_LOCATIONS} locations",
                               "location_ids")
        known = {location["id"] for location in self.sandbox.locations}
        unknown = [location for location in location_ids if location not in known]
        if unknown:
            raise SquareError(403, "AUTHENTICATION_ERROR", "FORBIDDEN",
                              f"Location `{unknown[0]}` does not belong to this merchant.", field="location_ids")
        limit = self._limit(body.get("limit"), ORDERS_DEFAULT_LIMIT, ORDERS_MAX_LIMIT)
        query = body.get("query") or {}
        filters = query.get("filter") or {}
        sort = query.get("sort") or {}
        sort_field = (sort.get("sort_field") or "CREATED_AT").upper()
        if sort_field not in ("CREATED_AT", "UPDATED_AT", "CLOSED_AT"):
            raise _bad_request("INVALID_VALUE", f"Invalid sort_field {sort_field!r}", "query.sort.sort_field")
        descending = self._sort_order(sort.get("sort_order"), "query.sort.sort_order")

        checks = [lambda o: o["location_id"] in location_ids]
        time_filter = filters.get("date_time_filter") or {}
        for field_name, window in time_filter.items():
            if field_name not in ("created_at", "updated_at", "closed_at") or not isinstance(window, dict):
                raise _bad_request("INVALID_VALUE", f"Unknown date_time_filter field {field_name!r}",
                                   "query.filter.date_time_filter")
            if field_name.upper() != sort_field:
                raise _bad_request("INVALID_VALUE", f"When filtering on {field_name}, the sort_field must be "
                                   f"{field_name.upper()}.", "query.sort.sort_field")
            start = _instant(window["start_at"], "start_at") if window.get("start_at") else None
            end = _instant(window["end_at"], "end_at") if window.get("end_at") else None
            if start and end and start > end:
                raise _bad_request("INVALID_TIME_RANGE", "start_at must not be after end_at",
                                   f"query.filter.date_time_filter.{field_name}")
            checks.append(lambda o, f=field_name, s=start, e=end: o.get(f) is not None
                          and (s is None or datetime.fromisoformat(o[f]) >= s)
                          and (e is None or datetime.fromisoformat(o[f]) < e))
        states = (filters.get("state_filter") or {}).get("states")
        if states:
            checks.append(lambda o: o.get("state") in states)
        key = sort_field.lower()
        request = {k: v for k, v in body.items() if k not in ("cursor", "limit")}
        matching = self.listing(
            ("orders/search", self._fingerprint(request)), self.sandbox.orders,
            lambda: sorted((o for o in self.sandbox.orders if all(check(o) for check in checks)),
                           key=lambda o: (datetime.fromisoformat(o.get(key) or o["created_at"]), o["id"]),
                           reverse=descending))
        page, cursor = self._page(matching, request, body.get("cursor"), limit)
        if body.get("return_entries"):
            answer: dict = {"order_entries": [{"order_id": o["id"], "location_id": o["location_id"],
                                               "version": o.get("version")} for o in page]}
        else:
            answer = {"orders": page} if page else {}
        if cursor:
            answer["cursor"] = cursor
        return answer

    def _list(self, path: str, records: list[dict], query: dict[str, str]) -> dict:
        unknown = sorted(set(query) - LIST_PARAMS[path])
        if unknown:
            raise _bad_request("INVALID_VALUE", f"Unrecognized query parameter `{unknown[0]}`", unknown[0])
        limit = self._limit(query.get("limit"), LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT)
        descending = self._sort_order(query.get("sort_order"), "sort_order")
        begin = _instant(query["begin_time"], "begin_time") if query.get("begin_time") else None
        end = _instant(query["end_time"], "end_time") if query.get("end_time") else None
        if begin and end and begin > end:
            raise _bad_request("INVALID_TIME_RANGE", "begin_time must not be after end_time", "begin_time")
        # total, last_4 and card_brand are accepted as Square does, but this sandbox does not filter on them
        equals = {name: query[name] for name in ("location_id", "status") if query.get(name)}

        def wanted(record: dict) -> bool:
            created = datetime.fromisoformat(record["created_at"])
            if (begin and created < begin) or (end and created >= end):
                return False
            if "source_type" in query and record.get("destination_type") != query["source_type"]:
                return False
            return all(record.get(name) == value for name, value in equals.items())

        request = {k: v for k, v in query.items() if k not in ("cursor", "limit")}
        matching = self.listing(
            (path, self._fingerprint(request)), records,
            lambda: sorted((r for r in records if wanted(r)),
                           key=lambda r: (datetime.fromisoformat(r["created_at"]), r["id"]), reverse=descending))
        page, cursor = self._page(matching, request, query.get("cursor"), limit)
        key = "payments" if path == "/v2/payments" else "refunds"
        answer: dict = {key: page} if page else {}
        if cursor:
            answer["cursor"] = cursor
        return answer
