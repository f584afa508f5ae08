"""A fake Shopify Admin REST API on loopback, serving the sandbox retailer's in-memory shop.

It behaves like the real API where a connector can tell the difference:

- auth by the `X-Shopify-Access-Token` header (401 otherwise, before any throttling);
- cursor pagination: an opaque `page_info` token in a `Link` header (rel="next" / rel="previous"),
  and a request that carries `page_info` may only add `limit` (400 otherwise);
- a leaky-bucket rate limit: `X-Shopify-Shop-Api-Call-Limit: used/size` on every response, 429 with
  `Retry-After` when the bucket is full;
- Shopify's list orderings: orders by (updated_at, id) ascending; payouts by date and balance
  transactions by processed_at, most recent first (as the REST reference documents);
- orders default to `status=open` as on the real shop: pass `status=any` to see closed and
  cancelled orders too.

Endpoints (under /admin/api/<version>/): orders.json, shopify_payments/payouts.json,
shopify_payments/balance/transactions.json; graphql.json for bulk operations (orders with their
transactions: see shopify_bulk_operations.py), their result files under /bulk-results/ (a signed URL,
no token); for publishing stock:
locations.json, products.json (paginated like orders, by id; each variant names its sku and
inventory_item_id) and POST inventory_levels/set.json.

Locations: a Shopify location has no code field, so the shop names each location by the retailer's
canonical location code ("WH-NJ", "ST-NYC"); the human name ("SoHo store") is kept in `address2`,
and a publisher can map codes to other names when a real shop is named differently. Levels set
through the API are kept in the fake: `api.inventory_level("TEE-BLK-M", "WH-NJ")`.

Usage:
    with FakeShopifyAdminAPI(store, "shpat_test") as api:   # started on a free port
        requests.get(api.base_url + "/admin/api/2026-07/orders.json", headers=...)
    api.request_log   # [LoggedRequest(method, path, query, status), ...]
    api.fail_next(3)  # the next 3 requests answer 500 (restart tests)
    api.fail_next_inventory_sets(1)   # only the next inventory_levels/set.json answers 500
"""
from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable, NamedTuple
from urllib.parse import urlencode

from connectors.sandbox.loopback import FakeVendorAPI
from connectors.sandbox.shopify_bulk_operations import RESULTS_PATH, FakeBulkOperations
from connectors.sandbox.world import CATALOG, LOCATIONS

MAX_LIMIT = 250
DEFAULT_LIMIT = 50
# Shopify-looking ids for the catalog: one product with one variant (and inventory item) per SKU.
LOCATION_ID_BASE = 71_000_000_000
PRODUCT_ID_BASE = 81_000_000_000
VARIANT_ID_BASE = 44_100_000_000
INVENTORY_ITEM_ID_BASE = 45_200_000_000
CATALOG_CREATED_AT = "2026-01-05T09:00:00-05:00"
THROTTLED_MESSAGE = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
INVALID_TOKEN_MESSAGE = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def catalog_locations() -> list[dict]:
    """The retailer's locations as Shopify locations, named by their canonical code (see the module doc)."""
    return [{"id": LOCATION_ID_BASE + i, "name": loc.code, "address1": None, "address2": loc.name,
             "city": loc.city, "province_code": loc.region, "country_code": "US", "active": True, "legacy": False,
             "created_at": CATALOG_CREATED_AT, "updated_at": CATALOG_CREATED_AT,
             "admin_graphql_api_id": f"gid://shopify/Location/{LOCATION_ID_BASE + i}"}
            for i, loc in enumerate(LOCATIONS, start=1)]


def catalog_products() -> list[dict]:
    """The retailer's catalog as Shopify products: one product per SKU, its single variant tracked by Shopify."""
    products = []
    for i, item in enumerate(CATALOG, start=1):
        product_id = PRODUCT_ID_BASE + i
        variant = {"id": VARIANT_ID_BASE + i, "product_id": product_id, "title": "Default Title", "sku": item.sku,
                   "barcode": item.barcode, "price": format(item.price, "f"),
                   "inventory_item_id": INVENTORY_ITEM_ID_BASE + i, "inventory_management": "shopify",
                   "inventory_policy": "deny",
                   "created_at": CATALOG_CREATED_AT, "updated_at": CATALOG_CREATED_AT}
        products.append({"id": product_id, "title": item.title, "status": "active", "variants": [variant],
                         "created_at": CATALOG_CREATED_AT, "updated_at": CATALOG_CREATED_AT})
    return products


@dataclass
class ShopifyStore:
    """The shop's data as Shopify would serve it (payload dicts, exactly as rendered)."""

    orders: list[dict]  # order payloads with line_items, shipping_lines and refunds embedded
    transactions: dict[int, list[dict]]  # order id -> that order's transactions
    payouts: list[dict]  # Shopify Payments payouts
    balance_transactions: list[dict]  # Shopify Payments balance transactions, each names its payout_id
    # What inventory publishing needs; the retailer's own catalog and locations unless told otherwise.
    locations: list[dict] = field(default_factory=catalog_locations)
    products: list[dict] = field(default_factory=catalog_products)  # variants embedded, as products.json serves them


class LoggedRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    status: int


class ApiError(Exception):
    """An error response: the status and Shopify's `errors` value."""

    def __init__(self, status: int, errors: Any):
        super().__init__(status, errors)
        self.status = status
        self.errors = errors


# ---- rate limit -----------------------------------------------------------------------------

class LeakyBucket:
    """Shopify's REST call limit: each call adds one unit, the bucket leaks at a steady rate.

    Retry-After is treated as a promise: once it has elapsed since a 429, a full bucket frees one
    unit, so a client that waits as told gets through even when the leak rate is tiny (tests).
    """

    def __init__(self, size: int, leak_per_second: float, retry_after_seconds: float,
                 clock: Callable[[], float] = time.monotonic):
        self.size = size
        self.leak_per_second = leak_per_second
        self.retry_after_seconds = retry_after_seconds
        self._clock = clock
        self._level = 0.0
        self._leaked_at = clock()
        self._released_at: float | None = None
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Admit one call if the bucket has room."""
        with self._lock:
            now = self._clock()
            self._level = max(0.0, self._level - (now - self._leaked_at) * self.leak_per_second)
            self._leaked_at = now
            if self._released_at is not None and now >= self._released_at:
                self._level = min(self._level, self.size - 1.0)
                self._released_at = None
            if self._level + 1.0 > self.size:
                if self._released_at is None:
                    self._released_at = now + self.retry_after_seconds
                return False
            self._level += 1.0
            return True

    def used(self) -> int:
        with self._lock:
            return min(self.size, math.ceil(self._level))


# ---- pagination -----------------------------------------------------------------------------

def _encode_page_info(payload: dict) -> str:
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_page_info(token: str) -> dict:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiError(400, {"page_info": "Invalid value."}) from None
    if (not isinstance(payload, dict) or {"resource", "filters", "direction", "anchor"} - payload.keys()
            or not isinstance(payload["filters"], dict) or not isinstance(payload["anchor"], list)):
        raise ApiError(400, {"page_info": "Invalid value."})
    return payload


@dataclass(frozen=True)
class ListResource:
    """One paginated list endpoint: how to filter its records and in which order to serve them."""

    name: str  # response key, e.g. "orders"
    filter_params: tuple[str, ...]
    records: Callable[[ShopifyStore], list[dict]]
    matches: Callable[[dict, dict[str, Any]], bool]
    sort_key: Callable[[dict], tuple]  # ascending key; `descending` flips the served order
    descending: bool
    parse_filters: Callable[[dict[str, str]], dict[str, Any]]


def _anchor(record: dict, resource: ListResource) -> list:
    # The sort key goes into the token as JSON: datetimes and dates as ISO text.
    return [v.isoformat() if isinstance(v, (datetime, date)) else v for v in resource.sort_key(record)]


def _anchor_key(anchor: list, sample: tuple) -> tuple:
    converted = []
    for value, like in zip(anchor, sample):
        if isinstance(like, datetime):
            converted.append(datetime.fromisoformat(value))
        elif isinstance(like, date):
            converted.append(date.fromisoformat(value))
        else:
            converted.append(value)
    return tuple(converted)


def _served(resource: ListResource, store: ShopifyStore, raw_filters: dict[str, str]) -> tuple[list[dict], list]:
    """The records a list request matches in served order, and their sort keys."""
    filters = resource.parse_filters(raw_filters)
    ordered = sorted((r for r in resource.records(store) if resource.matches(r, filters)),
                     key=resource.sort_key, reverse=resource.descending)
    return ordered, [resource.sort_key(r) for r in ordered]


def _page(resource: ListResource, served: tuple[list[dict], list], raw_filters: dict[str, str], limit: int,
          page_info: dict | None) -> tuple[list[dict], dict | None, dict | None]:
    """One page of `resource` (`served`: what _served answered), and the page_info payloads of the next and
    previous pages."""
    ordered, keys = served

    def after(i: int, anchor: tuple) -> bool:  # does position i come after the anchor in served order?
        return keys[i] < anchor if resource.descending else keys[i] > anchor

    if page_info is None or not ordered:
        start, end = 0, min(limit, len(ordered))
    else:
        try:
            anchor = _anchor_key(page_info["anchor"], keys[0])
        except (TypeError, ValueError):
            raise ApiError(400, {"page_info": "Invalid value."}) from None
        if page_info["direction"] == "next":
            # the first position after the anchor: `after` is False up to it and True from it on
            start = bisect.bisect_left(range(len(ordered)), True, key=lambda i: after(i, anchor))
            end = min(start + limit, len(ordered))
        else:
            # Records before the anchor form a prefix of the served order.
            end = sum(1 for i in range(len(ordered)) if not after(i, anchor) and keys[i] != anchor)
            start = max(0, end - limit)
    records = ordered[start:end]
    base = {"resource": resource.name, "filters": raw_filters}
    next_info = ({**base, "direction": "next", "anchor": _anchor(records[-1], resource)}
                 if records and end < len(ordered) else None)
    previous_info = ({**base, "direction": "previous", "anchor": _anchor(records[0], resource)}
                     if records and start > 0 else None)
    return records, next_info, previous_info


# ---- filters --------------------------------------------------------------------------------

def _timestamp(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, {name: f"'{value}' is not a valid ISO 8601 date-time."}) from None
    # Shopify reads a time without offset in the shop's zone; the fake shop keeps UTC for those.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, {name: f"'{value}' is not a valid date (YYYY-MM-DD)."}) from None


def _order_filters(raw: dict[str, str]) -> dict[str, Any]:
    status = raw.get("status", "open")
    if status not in ("open", "closed", "cancelled", "any"):
        raise ApiError(400, {"status": f"'{status}' is not one of open, closed, cancelled, any."})
    return {"status": status,
            "updated_at_min": _timestamp("updated_at_min", raw["updated_at_min"]) if "updated_at_min" in raw else None,
            "updated_at_max": _timestamp("updated_at_max", raw["updated_at_max"]) if "updated_at_max" in raw else None}


def _order_matches(order: dict, f: dict[str, Any]) -> bool:
    closed, cancelled = order.get("closed_at") is not None, order.get("cancelled_at") is not None
    if f["status"] == "open" and (closed or cancelled):
        return False
    if (f["status"] == "closed" and not closed) or (f["status"] == "cancelled" and not cancelled):
        return False
    updated = datetime.fromisoformat(order["updated_at"])
    if f["updated_at_min"] is not None and updated < f["updated_at_min"]:
        return False
    return f["updated_at_max"] is None or updated <= f["updated_at_max"]


def _payout_filters(raw: dict[str, str]) -> dict[str, Any]:
    return {"date_min": _day("date_min", raw["date_min"]) if "date_min" in raw else None,
            "date_max": _day("date_max", raw["date_max"]) if "date_max" in raw else None,
            "status": raw.get("status")}


def _payout_matches(payout: dict, f: dict[str, Any]) -> bool:
    day = date.fromisoformat(payout["date"])
    return ((f["date_min"] is None or day >= f["date_min"]) and (f["date_max"] is None or day <= f["date_max"])
            and (f["status"] is None or payout["status"] == f["status"]))


def _balance_filters(raw: dict[str, str]) -> dict[str, Any]:
    if "payout_id" in raw and not raw["payout_id"].isdigit():
        raise ApiError(400, {"payout_id": "must be an integer"})
    return {"payout_id": int(raw["payout_id"]) if "payout_id" in raw else None}


def _balance_matches(txn: dict, f: dict[str, Any]) -> bool:
    return f["payout_id"] is None or txn.get("payout_id") == f["payout_id"]


ORDERS = ListResource(
    name="orders", filter_params=("status", "updated_at_min", "updated_at_max"),
    records=lambda s: s.orders, matches=_order_matches, parse_filters=_order_filters,
    sort_key=lambda o: (datetime.fromisoformat(o["updated_at"]), o["id"]), descending=False)
PAYOUTS = ListResource(
    name="payouts", filter_params=("date_min", "date_max", "status"),
    records=lambda s: s.payouts, matches=_payout_matches, parse_filters=_payout_filters,
    sort_key=lambda p: (date.fromisoformat(p["date"]), p["id"]), descending=True)
BALANCE_TRANSACTIONS = ListResource(
    name="transactions", filter_params=("payout_id",),
    records=lambda s: s.balance_transactions, matches=_balance_matches, parse_filters=_balance_filters,
    sort_key=lambda t: (datetime.fromisoformat(t["processed_at"]), t["id"]), descending=True)
PRODUCTS = ListResource(
    name="products", filter_params=(),
    records=lambda s: s.products, matches=lambda product, filters: True, parse_filters=lambda raw: {},
    sort_key=lambda p: (p["id"],), descending=False)
LIST_ROUTES = {"orders.json": ORDERS, "shopify_payments/payouts.json": PAYOUTS,
               "shopify_payments/balance/transactions.json": BALANCE_TRANSACTIONS, "products.json": PRODUCTS}
SET_INVENTORY_LEVEL_ROUTE = "inventory_levels/set.json"
GRAPHQL_ROUTE = "graphql.json"


# ---- HTTP -----------------------------------------------------------------------------------

def _json_default(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class FakeShopifyAdminAPI(FakeVendorAPI):
    server_version = "FakeShopify/1.0"

    def __init__(self, store: ShopifyStore, access_token: str, *, api_version: str = "2026-07",
                 bucket_size: int = 40, leak_per_second: float = 2.0, retry_after_seconds: float = 1.0,
                 host: str = "127.0.0.1", port: int = 0):
        super().__init__(host, port)
        self.store = store
        self.api_version = api_version
        self._access_token = access_token
        self._bucket = LeakyBucket(bucket_size, leak_per_second, retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds
        self.request_log: list[LoggedRequest] = []
        self._failures: list[int] = []
        self._set_failures: list[int] = []
        # (inventory_item_id, location_id) -> the inventory_level payload last set through the API
        self._levels: dict[tuple[int, int], dict] = {}
        self.bulk_operations = FakeBulkOperations(store)

    def __repr__(self) -> str:  # the token stays out of reprs
        return f"FakeShopifyAdminAPI({self.base_url!r}, api_version={self.api_version!r})"

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next n requests with `status` (an outage), whatever they ask."""
        with self._lock:
            self._failures.extend([status] * n)

    def fail_next_inventory_sets(self, n: int, status: int = 500) -> None:
        """Answer the next n POSTs to inventory_levels/set.json with `status`; other requests are served."""
        with self._lock:
            self._set_failures.extend([status] * n)

    def inventory_level(self, sku: str, location_code: str) -> int | None:
        """`available` last set for a SKU at a location, None if never set. Locations go by name, which in the
        sandbox shop is the canonical code ("WH-NJ")."""
        item = next((v["inventory_item_id"] for p in self.store.products for v in p["variants"] if v.get("sku") == sku),
                    None)
        location = next((loc["id"] for loc in self.store.locations if loc["name"] == location_code), None)
        with self._lock:
            level = self._levels.get((item, location))
        return None if level is None else level["available"]

    def handle(self, method: str, path: str, query: dict[str, str], headers, body: bytes = b"") -> tuple[int, Any, dict[str, str]]:
        try:
            status, body, extra = self._respond(method, path, query, headers, body)
        except ApiError as error:
            status, body, extra = error.status, {"errors": error.errors}, {}
        return status, body, {"X-Shopify-API-Version": self.api_version,
                              "X-Shopify-Shop-Api-Call-Limit": f"{self._bucket.used()}/{self._bucket.size}", **extra}

    def log_request(self, method: str, path: str, query: dict[str, str], status: int, headers) -> None:
        self._log(LoggedRequest(method, path, query, status))

    json_default = staticmethod(_json_default)

    def _log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.request_log.append(entry)

    # ---- routing ----------------------------------------------------------------------------
    def _respond(self, method: str, path: str, query: dict[str, str], headers,
                 body: bytes = b"") -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return failure, {"errors": "Internal Server Error" if failure >= 500 else "Injected failure"}, {}
        results = RESULTS_PATH.fullmatch(path)
        if method == "GET" and results:  # a signed storage URL: no token, no call limit
            return self.bulk_operations.results(int(results.group(1)), query.get("signature"),
                                                token_sent="X-Shopify-Access-Token" in headers)
        if headers.get("X-Shopify-Access-Token") != self._access_token:
            raise ApiError(401, INVALID_TOKEN_MESSAGE)
        if not self._bucket.take():
            return 429, {"errors": THROTTLED_MESSAGE}, {"Retry-After": f"{float(self.retry_after_seconds)}"}
        prefix = f"/admin/api/{self.api_version}/"
        if method == "POST" and path == prefix + SET_INVENTORY_LEVEL_ROUTE:
            return self._set_inventory_level(body)
        if method == "POST" and path == prefix + GRAPHQL_ROUTE:
            status, answer = self.bulk_operations.graphql(body, self.base_url)
            return status, answer, {}
        if method != "GET" or not path.startswith(prefix):
            raise ApiError(404, "Not Found")
        route = path[len(prefix):]
        if route == "locations.json":  # a shop has a handful of locations: Shopify serves them unpaginated
            return 200, {"locations": list(self.store.locations)}, {}
        if route in LIST_ROUTES:
            return self._list(LIST_ROUTES[route], path, query)
        raise ApiError(404, "Not Found")

    def _set_inventory_level(self, body: bytes) -> tuple[int, Any, dict[str, str]]:
        """inventory_levels/set.json: the absolute `available` of an item at a location (connecting it if new)."""
        with self._lock:
            failure = self._set_failures.pop(0) if self._set_failures else None
        if failure is not None:
            return failure, {"errors": "Internal Server Error" if failure >= 500 else "Injected failure"}, {}
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            raise ApiError(400, {"error": "the body is not valid JSON"}) from None
        if not isinstance(request, dict):
            raise ApiError(400, {"error": "the body must be a JSON object"})
        for name in ("location_id", "inventory_item_id", "available"):
            value = request.get(name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ApiError(400, {name: "Required parameter missing or invalid"})
        location = next((loc for loc in self.store.locations if loc["id"] == request["location_id"]), None)
        if location is None or not location.get("active", True):
            raise ApiError(422, ["Location could not be found or is inactive"])
        variant = next((v for p in self.store.products for v in p["variants"]
                        if v["inventory_item_id"] == request["inventory_item_id"]), None)
        if variant is None:
            raise ApiError(422, ["Inventory item could not be found"])
        if variant.get("inventory_management") != "shopify":
            raise ApiError(422, ["Inventory item does not have inventory tracking enabled"])
        level = {"inventory_item_id": request["inventory_item_id"], "location_id": request["location_id"],
                 "available": request["available"],
                 "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{request['location_id']}"
                                         f"?inventory_item_id={request['inventory_item_id']}"}
        with self._lock:
            self._levels[(request["inventory_item_id"], request["location_id"])] = level
        return 200, {"inventory_level": dict(level)}, {}

    def _list(self, resource: ListResource, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        limit = _limit(query.get("limit"))
        page_info = None
        if "page_info" in query:
            extra = sorted(set(query) - {"page_info", "limit"})
            if extra:
                raise ApiError(400, {"page_info": f"page_info cannot be combined with {', '.join(extra)}: "
                                                  "only limit may be sent with page_info."})
            page_info = _decode_page_info(query["page_info"])
            if page_info["resource"] != resource.name:
                raise ApiError(400, {"page_info": "Invalid value."})
            raw_filters = page_info["filters"]
        else:
            raw_filters = {k: v for k, v in query.items() if k in resource.filter_params}
        served = self.listing((resource.name, json.dumps(raw_filters, sort_keys=True)), resource.records(self.store),
                              lambda: _served(resource, self.store, raw_filters))
        records, next_info, previous_info = _page(resource, served, raw_filters, limit, page_info)
        links = []
        # Shopify lists previous before next.
        for rel, info in (("previous", previous_info), ("next", next_info)):
            if info is not None:
                url = f"{self.base_url}{path}?{urlencode({'limit': limit, 'page_info': _encode_page_info(info)})}"
                links.append(f'<{url}>; rel="{rel}"')
        return 200, {resource.name: records}, ({"Link": ", ".join(links)} if links else {})


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not value.isdigit() or int(value) < 1:
        raise ApiError(400, {"limit": "must be a positive integer"})
    return min(int(value), MAX_LIMIT)
