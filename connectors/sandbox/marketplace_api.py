"""A fake listing API of the regional marketplace (Bazaarly) on loopback: the seller sets each listing's quantity.

The contract (connectors/marketplace/listings.py is its client):
- auth by `Authorization: Bearer <api token>`: none or a wrong one answers 401 (with
  `WWW-Authenticate: Bearer`), the token never echoed;
- PUT /v1/listings/{sku}/quantity with {"quantity": n} sets the listing's absolute quantity and
  answers 200 {"sku", "quantity", "updated_at"}; a SKU the seller does not list answers 404, a
  quantity that is not a whole number of 0 or more 422; GET /v1/listings/{sku} reads a listing back;
- errors are {"error": <code>, "message": <text>};
- `fail_next(n)` answers the next n requests with 500 (an outage), or with 429 + Retry-After
  (`fail_next(n, 429, retry_after=0.01)`).

    with FakeMarketplaceListingsAPI("mkt_token") as api:      # the world's catalog, nothing set yet
        requests.put(api.base_url + "/v1/listings/TEE-BLK-M/quantity", json={"quantity": 4}, headers=...)
    api.quantity("TEE-BLK-M")    # 4
    api.request_log              # [LoggedMarketplaceRequest(method, path, query, status), ...]
"""
from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import unquote

from connectors.sandbox.loopback import FakeVendorAPI
from connectors.sandbox.world import CATALOG

LISTINGS_PREFIX = "/v1/listings/"


class LoggedMarketplaceRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    status: int


class _Refusal(Exception):
    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(status, error)
        self.status, self.headers = status, headers or {}
        self.body = {"error": error, "message": message}


class FakeMarketplaceListingsAPI(FakeVendorAPI):
    server_version = "FakeMarketplace/1.0"

    def __init__(self, api_token: str, skus: Iterable[str] | None = None, *, marketplace: str = "bazaarly",
                 host: str = "127.0.0.1", port: int = 0):
        super().__init__(host, port)
        self.marketplace = marketplace
        self._api_token = api_token
        # The seller's listings: the catalog unless told otherwise, quantity unknown until the seller sets it.
        self.listings: dict[str, dict] = {sku: {"sku": sku, "quantity": None, "updated_at": None}
                                          for sku in (skus if skus is not None else [item.sku for item in CATALOG])}
        self._failures: list[tuple[int, float | None]] = []
        self.request_log: list[LoggedMarketplaceRequest] = []

    def __repr__(self) -> str:  # the token stays out of reprs
        return f"FakeMarketplaceListingsAPI({self.base_url!r}, marketplace={self.marketplace!r})"

    # ---- test hooks -------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 500, *, retry_after: float | None = None) -> None:
        with self._lock:
            self._failures.extend([(status, retry_after)] * n)

    def quantity(self, sku: str) -> int | None:
        with self._lock:
            listing = self.listings.get(sku)
            return None if listing is None else listing["quantity"]

    # ---- FakeVendorAPI ----------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], headers,
               body: bytes = b"") -> tuple[int, Any, dict[str, str]]:
        try:
            return 200, self._respond(method, path, headers, body), {}
        except _Refusal as refusal:
            return refusal.status, refusal.body, refusal.headers

    def log_request(self, method: str, path: str, query: dict[str, str], status: int, headers) -> None:
        with self._lock:
            self.request_log.append(LoggedMarketplaceRequest(method, path, dict(query), status))

    def internal_error_body(self, error: Exception) -> Any:
        return {"error": "internal_error", "message": "Something went wrong on our side. Please retry."}

    # ---- routing ----------------------------------------------------------------------------
    def _respond(self, method: str, path: str, headers, body: bytes) -> dict:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            status, retry_after = failure
            extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            raise _Refusal(status, "rate_limited" if status == 429 else "unavailable", "injected failure", extra)
        self._authenticate(headers.get("Authorization") or "")
        if not path.startswith(LISTINGS_PREFIX):
            raise _Refusal(404, "not_found", "No such resource.")
        # The SKU is one path segment, percent-encoded by the client ('/' included): split, then decode.
        segments = path[len(LISTINGS_PREFIX):].split("/")
        sku = unquote(segments[0])
        if method == "PUT" and len(segments) == 2 and segments[1] == "quantity":
            return self._set_quantity(sku, body)
        if method == "GET" and len(segments) == 1:
            return dict(self._listing(sku))
        raise _Refusal(404, "not_found", f"No route for {method} {path}.")

    def _authenticate(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), self._api_token):
            raise _Refusal(401, "unauthorized", "Missing or invalid API token.",
                           {"WWW-Authenticate": 'Bearer realm="listings"'})

    def _listing(self, sku: str) -> dict:
        listing = self.listings.get(sku)
        if listing is None:
            raise _Refusal(404, "listing_not_found", f"No listing with SKU '{sku}' for this seller.")
        return listing

    def _set_quantity(self, sku: str, body: bytes) -> dict:
        try:
            request = json.loads(body or b"null")
        except ValueError:
            raise _Refusal(400, "invalid_json", "The body is not valid JSON.") from None
        quantity = request.get("quantity") if isinstance(request, dict) else None
        with self._lock:
            listing = self._listing(sku)
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                raise _Refusal(422, "invalid_quantity", f"quantity must be a whole number of 0 or more, "
                                                         f"not {quantity!r}.")
            listing.update(quantity=quantity, updated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
            return dict(listing)
