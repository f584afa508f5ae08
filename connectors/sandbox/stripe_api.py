"""A fake Stripe API on loopback, serving a sandbox Stripe account from memory.

It behaves like the real API where a connector can tell the difference:

- auth by `Authorization: Bearer <secret key>` (or HTTP Basic with the key as user name); a wrong
  or missing key answers 401 with Stripe's error JSON (the key shown masked, as Stripe does);
- a `Stripe-Version` header is required (400 without it) and echoed on every response;
- list endpoints answer `{"object": "list", "data": [...], "has_more": bool, "url": "/v1/..."}`,
  newest first (created, then id, descending), with `limit` (1..100, default 10),
  `starting_after` / `ending_before` cursors (an unknown id is a 400 resource_missing), and the
  filters each endpoint documents; an unknown parameter is a 400 naming it;
- time filters take Unix seconds as `created=<t>` or `created[gt|gte|lt|lte]=<t>`;
- `/v1/balance_transactions?payout=po_...` lists what that payout paid out (StripeStore.payout_of);
- errors use Stripe's shape `{"error": {"type", "code", "message", "param"}}` and a Request-Id.

Endpoints: GET /v1/balance_transactions, /v1/payouts, /v1/charges, /v1/refunds, /v1/disputes,
and GET /v1/<resource>/<id> for each.

Usage:
    with FakeStripeAPI(store, "sk_test_123") as api:   # started on a free port
        StripeClient(api.base_url, "sk_test_123").list_pages("/v1/payouts", {"limit": 3})
    api.request_log    # [LoggedStripeRequest(method, path, query, status, stripe_version), ...]
    api.fail_next(2)   # the next 2 requests answer 500; fail_next(1, 429, retry_after=0.01) throttles
"""
from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from connectors.sandbox.loopback import FakeVendorAPI

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
RATE_LIMIT_MESSAGE = ("Request rate limit exceeded. You can learn more about rate limits here "
                      "https://stripe.com/docs/rate-limits.")
NO_KEY_MESSAGE = ("You did not provide an API key. You need to provide your API key in the Authorization "
                  "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")


@dataclass
class StripeStore:
    """A Stripe account's objects as Stripe would serve them (payload dicts, exactly as rendered)."""

    balance_transactions: list[dict] = field(default_factory=list)
    payouts: list[dict] = field(default_factory=list)
    charges: list[dict] = field(default_factory=list)
    refunds: list[dict] = field(default_factory=list)
    disputes: list[dict] = field(default_factory=list)
    payout_of: dict[str, str] = field(default_factory=dict)  # balance transaction id -> payout id


class LoggedStripeRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    status: int
    stripe_version: str | None


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",  # noqa: A002
                 code: str | None = None, param: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(status, message)
        self.status = status
        self.headers = headers or {}
        self.body = {"error": {k: v for k, v in
                               {"type": type, "code": code, "message": message, "param": param}.items()
                               if v is not None}}


# ---- filters --------------------------------------------------------------------------------

def _integer(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise StripeError(400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=name) from None


def _time_filter(field_name: str) -> Callable[[dict[str, str]], Callable[[dict], bool] | None]:
    """created=<t> or created[gt|gte|lt|lte]=<t>, on the record's Unix-seconds field."""
    ops = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}

    def parse(query: dict[str, str]) -> Callable[[dict], bool] | None:
        checks = []
        if field_name in query:
            exact = _integer(field_name, query[field_name])
            checks.append(lambda r: r.get(field_name) == exact)
        for op, compare in ops.items():
            key = f"{field_name}[{op}]"
            if key in query:
                bound = _integer(key, query[key])
                checks.append(lambda r, c=compare, b=bound: r.get(field_name) is not None and c(r[field_name], b))
        return (lambda r: all(check(r) for check in checks)) if checks else None

    return parse


def _time_params(field_name: str) -> set[str]:
    return {field_name, *(f"{field_name}[{op}]" for op in ("gt", "gte", "lt", "lte"))}


def _equals(param: str, record_field: str | None = None) -> Callable[[dict[str, str]], Callable[[dict], bool] | None]:
    def parse(query: dict[str, str]):
        if param not in query:
            return None
        wanted = query[param]

        def check(record: dict) -> bool:
            value = record.get(record_field or param)
            if isinstance(value, dict):  # an expanded reference
                value = value.get("id")
            return value == wanted
        return check

    return parse


@dataclass(frozen=True)
class Resource:
    name: str  # URL segment, e.g. "balance_transactions"
    object: str  # Stripe's object name, e.g. "balance_transaction"
    records: Callable[[StripeStore], list[dict]]
    params: frozenset[str]
    filters: tuple[Callable[[dict[str, str]], Callable[[dict], bool] | None], ...]


def _payout_filter(api: FakeStripeAPI):
    def parse(query: dict[str, str]):
        if "payout" not in query:
            return None
        payout = query["payout"]
        if not any(p["id"] == payout for p in api.store.payouts):
            raise StripeError(400, f"No such payout: '{payout}'", code="resource_missing", param="payout")
        return lambda record: api.store.payout_of.get(record["id"]) == payout

    return parse


def _resources(api: FakeStripeAPI) -> dict[str, Resource]:
    common = {"limit", "starting_after", "ending_before", *_time_params("created")}
    return {r.name: r for r in (
        Resource("balance_transactions", "balance_transaction", lambda s: s.balance_transactions,
                 frozenset(common | {"payout", "type", "source", "currency"}),
                 (_time_filter("created"), _payout_filter(api), _equals("type"), _equals("source"),
                  _equals("currency"))),
        Resource("payouts", "payout", lambda s: s.payouts,
                 frozenset(common | _time_params("arrival_date") | {"status", "destination"}),
                 (_time_filter("created"), _time_filter("arrival_date"), _equals("status"), _equals("destination"))),
        Resource("charges", "charge", lambda s: s.charges,
                 frozenset(common | {"customer", "payment_intent", "transfer_group"}),
                 (_time_filter("created"), _equals("customer"), _equals("payment_intent"), _equals("transfer_group"))),
        Resource("refunds", "refund", lambda s: s.refunds,
                 frozenset(common | {"charge", "payment_intent"}),
                 (_time_filter("created"), _equals("charge"), _equals("payment_intent"))),
        Resource("disputes", "dispute", lambda s: s.disputes,
                 frozenset(common | {"charge", "payment_intent"}),
                 (_time_filter("created"), _equals("charge"), _equals("payment_intent"))),
    )}


# ---- HTTP -----------------------------------------------------------------------------------

def _masked(key: str) -> str:
    prefix = next((p for p in ("sk_live_", "sk_test_", "rk_live_", "rk_test_") if key.startswith(p)), "")
    return f"{prefix}{'*' * 4}{key[-4:]}" if len(key) > 4 else "****"


class FakeStripeAPI(FakeVendorAPI):
    server_version = "FakeStripe/1.0"

    def __init__(self, store: StripeStore, api_key: str, *, host: str = "127.0.0.1", port: int = 0,
                 default_version: str = "2023-08-16", require_version: bool = True):
        super().__init__(host, port)
        self.store = store
        self.default_version = default_version
        self.require_version = require_version
        self._api_key = api_key
        self._resources = _resources(self)
        self.request_log: list[LoggedStripeRequest] = []
        self._failures: list[tuple[int, float | None]] = []
        self._ids = itertools.count(1)

    def __repr__(self) -> str:  # the key stays out of reprs
        return f"FakeStripeAPI({self.base_url!r})"

    def handle(self, method: str, path: str, query: dict[str, str], headers, body: bytes = b"") -> tuple[int, Any, dict[str, str]]:
        try:
            status, body = self._respond(method, path, query, headers)
            extra = {}
        except StripeError as error:
            status, body, extra = error.status, error.body, error.headers
        return status, body, {"Request-Id": self._request_id(),
                              "Stripe-Version": headers.get("Stripe-Version") or self.default_version, **extra}

    def log_request(self, method: str, path: str, query: dict[str, str], status: int, headers) -> None:
        self._log(LoggedStripeRequest(method, path, query, status, headers.get("Stripe-Version")))

    def internal_error_body(self, error: Exception) -> Any:
        return {"error": {"type": "api_error", "message": f"Internal error ({type(error).__name__})"}}

    def fail_next(self, n: int, status: int = 500, *, retry_after: float | None = None) -> None:
        """Answer the next n requests with `status` (500 outage, 429 rate limit, ...), whatever they ask."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * n)

    def _log(self, entry: LoggedStripeRequest) -> None:
        with self._lock:
            self.request_log.append(entry)

    def _request_id(self) -> str:
        return f"req_fake{next(self._ids):010d}"

    # ---- routing ----------------------------------------------------------------------------
    def _respond(self, method: str, path: str, query: dict[str, str], headers) -> tuple[int, Any]:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            self._fail(*failure)
        self._authenticate(headers.get("Authorization"))
        if self.require_version and not headers.get("Stripe-Version"):
            raise StripeError(400, "A Stripe-Version header is required by this sandbox (pin your API version).",
                              param="Stripe-Version")
        parts = path.strip("/").split("/")
        if method != "GET" or len(parts) not in (2, 3) or parts[0] != "v1" or parts[1] not in self._resources:
            raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")
        resource = self._resources[parts[1]]
        if len(parts) == 3:
            records = resource.records(self.store)
            found = self.listing((resource.name, "by id"), records, lambda: {r["id"]: r for r in records}).get(parts[2])
            if found is None:
                raise StripeError(404, f"No such {resource.object}: '{parts[2]}'", code="resource_missing", param="id")
            return 200, found
        return 200, self._list(resource, query)

    def _fail(self, status: int, retry_after: float | None) -> None:
        extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        if status == 429:
            raise StripeError(429, RATE_LIMIT_MESSAGE, code="rate_limit", headers=extra)
        if status >= 500:
            raise StripeError(status, "An unknown error occurred", type="api_error", headers=extra)
        raise StripeError(status, "Injected failure", headers=extra)

    def _authenticate(self, authorization: str | None) -> None:
        scheme, _, credential = (authorization or "").partition(" ")
        key = ""
        if scheme.lower() == "bearer":
            key = credential.strip()
        elif scheme.lower() == "basic":
            try:
                key = base64.b64decode(credential.strip()).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                key = ""
        if not key:
            raise StripeError(401, NO_KEY_MESSAGE)
        if key != self._api_key:
            raise StripeError(401, f"Invalid API Key provided: {_masked(key)}")

    def _list(self, resource: Resource, query: dict[str, str]) -> dict:
        unknown = sorted(set(query) - resource.params)
        if unknown:
            raise StripeError(400, f"Received unknown parameter: {unknown[0]}", code="parameter_unknown",
                              param=unknown[0])
        limit = DEFAULT_LIMIT
        if "limit" in query:
            limit = _integer("limit", query["limit"])
            if not 1 <= limit <= MAX_LIMIT:
                raise StripeError(400, f"This value must be between 1 and {MAX_LIMIT} (it currently is {limit}).",
                                  code="parameter_invalid_integer", param="limit")
        if "starting_after" in query and "ending_before" in query:
            raise StripeError(400, "You may only specify one of these parameters: ending_before, starting_after.",
                              param="starting_after")
        checks = [check for parse in resource.filters if (check := parse(query)) is not None]
        records = resource.records(self.store)

        def key(r: dict) -> tuple:
            return r.get("created", 0), r["id"]
        filters = json.dumps({k: v for k, v in query.items() if k not in ("limit", "starting_after", "ending_before")},
                             sort_keys=True)
        # newest first, as Stripe lists
        matching = self.listing((resource.name, filters), records, lambda: sorted(
            (r for r in records if all(check(r) for check in checks)), key=key, reverse=True))
        if "starting_after" in query or "ending_before" in query:
            param = "starting_after" if "starting_after" in query else "ending_before"
            cursor = query[param]
            found = self.listing((resource.name, "by id"), records, lambda: {r["id"]: r for r in records}).get(cursor)
            if found is None:
                raise StripeError(400, f"No such {resource.object}: '{cursor}'", code="resource_missing", param=param)
            anchor = key(found)
            if param == "starting_after":  # the older ones: a suffix of `matching`
                start = bisect.bisect_left(range(len(matching)), True, key=lambda i: key(matching[i]) < anchor)
                data, has_more = matching[start:start + limit], len(matching) - start > limit
            else:  # the newer ones: a prefix
                end = bisect.bisect_left(range(len(matching)), True, key=lambda i: key(matching[i]) <= anchor)
                data, has_more = matching[max(0, end - limit):end], end > limit
        else:
            data, has_more = matching[:limit], len(matching) > limit
        return {"object": "list", "data": data, "has_more": has_more, "url": f"/v1/{resource.name}"}
