"""A fake Selling Partner API (and its Login-with-Amazon token endpoint) on loopback.

It serves an AmazonSandbox (connectors.sandbox.channels.amazon) and behaves like Amazon where a
connector can tell the difference:

- LWA: POST /auth/o2/token (form: grant_type=refresh_token, refresh_token, client_id,
  client_secret) answers {"access_token": "Atza|...", "token_type": "bearer", "expires_in": 3600};
  a wrong client answers 401 invalid_client, a wrong refresh token 400 invalid_grant.
- every SP-API call needs a live access token in `x-amz-access-token`: a missing, unknown or
  expired one answers 401 Unauthorized (checked before throttling); `expire_access_tokens()` ends
  every issued token at once (a token revoked early).
- throttling is a token bucket per operation (rate per second and burst, as Amazon documents
  them per operation); a throttled call answers 429 QuotaExceeded, with `Retry-After` only if the
  fake is told to send one (Amazon usually does not: clients must back off on their own).
  Every answer carries `x-amzn-RateLimit-Limit` and `x-amzn-RequestId`.
- Orders 2026-01-01: GET /orders/2026-01-01/orders (searchOrders) needs exactly one of
  lastUpdatedAfter and createdAfter (bounds inclusive; lists comma-separated), pages by an opaque
  pagination.nextToken sent back as paginationToken beside the same filters (a token with other
  filters answers 400), orders by lastUpdatedTime. Each order carries its items, and only the
  includedData datasets asked for (connectors.sandbox.amazon_orders_2026 renders them).
- Reports 2021-06-30: GET /reports (reportTypes required unless nextToken, which must then be the
  only parameter; newest first; pageSize 1-100, default 10), GET /reports/{id},
  GET /documents/{id} -> {reportDocumentId, url, compressionAlgorithm?}. The url is a pre-signed
  download on the same server (/_s3/...): it needs the signature, not the access token.
- Listings Items 2021-08-01: PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=...
  with {"productType", "patches": [{"op", "path", "value"}]} answers 200 {sku, status, submissionId,
  issues}: ACCEPTED, or INVALID with ERROR issues (a merchant quantity for a listing Amazon fulfils,
  a malformed fulfillment_availability). Another seller's id answers 403, a SKU the seller does not
  list 404 NOT_FOUND, a body that cannot be parsed 400 InvalidInput. Amazon applies an accepted patch
  asynchronously; the fake applies it at once: `api.listing_quantity("TEE-BLK-M")`. (Real Amazon may
  accept a patch for a SKU it has never seen and create an incomplete listing; the fake refuses it,
  which is the answer a publisher must handle anyway.)

    with FakeSellingPartnerAPI(sandbox, "amzn1.application-oa2-client.x", "secret", "Atzr|r") as api:
        api.base_url, api.token_url
    api.fail_next(2, status=503)   # an outage of the SP-API endpoints (not LWA)
    api.request_log                # [LoggedRequest(method, path, query, status, operation, had_token)]
    api.listings                   # seller SKU -> {"quantity", "fulfillment_channel_code", "fulfilled_by_amazon"}
"""
from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, unquote

from connectors.sandbox.amazon_orders_2026 import INCLUDED_DATA, render_order
from connectors.sandbox.channels.amazon import MARKETPLACE_ID, AmazonSandbox
from connectors.sandbox.loopback import FakeVendorAPI
from connectors.sandbox.world import CATALOG

TOKEN_PATH = "/auth/o2/token"
DOWNLOAD_PREFIX = "/_s3/reports/"
# Amazon's documented (rate per second, burst) per operation, for tests that want the real pace.
AMAZON_RATE_LIMITS = {"searchOrders": (0.0056, 20),
                      "getReports": (0.0222, 10), "getReport": (2.0, 15), "getReportDocument": (0.0167, 15),
                      "patchListingsItem": (5.0, 5)}
SEARCH_FILTERS = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore", "marketplaceIds")
SANDBOX_SELLER_ID = "A3SANDBOXOMNI7"  # the seller (merchant token) the sandbox's listings belong to
LISTINGS_PREFIX = ["listings", "2021-08-01", "items"]
FULFILLMENT_AVAILABILITY = "/attributes/fulfillment_availability"
# The sandbox's default: the same operations, fast enough for a demo to pull days in seconds.
SANDBOX_RATE_LIMITS = {operation: (200.0, 200) for operation in AMAZON_RATE_LIMITS}


class LoggedRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    status: int
    operation: str | None
    had_token: bool  # did the request carry x-amz-access-token (downloads must not)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: str = ""):
        super().__init__(status, code, message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"errors": [error]}


class TokenBucket:
    """One operation's quota: `burst` calls at once, refilled at `rate` calls a second."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens, self._at = float(burst), clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


def _encode_token(payload: dict) -> str:
    return base64.b64encode(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).decode()


def _decode_token(token: str, operation: str) -> dict:
    try:
        payload = json.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiError(400, "InvalidInput", "Invalid NextToken.") from None
    if not isinstance(payload, dict) or payload.get("op") != operation or not isinstance(payload.get("offset"), int):
        raise ApiError(400, "InvalidInput", "Invalid NextToken.")
    return payload


def _timestamp(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "InvalidInput", f"Invalid {name}: {value!r} is not an ISO 8601 date-time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _page_size(value: str | None, default: int, name: str) -> int:
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise ApiError(400, "InvalidInput", f"{name} must be an integer between 1 and 100.")
    return int(value)


@dataclass
class _Issued:
    expires_at: float


class FakeSellingPartnerAPI(FakeVendorAPI):
    server_version = "Server"  # Amazon's API gateway does not name itself

    def __init__(self, sandbox: AmazonSandbox, client_id: str, client_secret: str, refresh_token: str, *,
                 host: str = "127.0.0.1", port: int = 0, token_lifetime_seconds: int = 3600,
                 orders_page_size: int = 100,
                 rate_limits: dict[str, tuple[float, int]] | None = None, retry_after_seconds: float | None = None,
                 gzip_documents: bool = False, clock: Callable[[], float] = time.monotonic,
                 seller_id: str = SANDBOX_SELLER_ID, listing_skus: Iterable[str] | None = None,
                 fba_skus: Iterable[str] = ()):
        super().__init__(host, port)
        self.sandbox = sandbox
        self._client_id, self._client_secret, self._refresh_token = client_id, client_secret, refresh_token
        self.token_lifetime_seconds = token_lifetime_seconds
        self.orders_page_size = orders_page_size
        self.retry_after_seconds = retry_after_seconds
        self.gzip_documents = gzip_documents
        self._clock = clock
        limits = {**SANDBOX_RATE_LIMITS, **(rate_limits or {})}
        self._buckets = {operation: TokenBucket(rate, burst, clock) for operation, (rate, burst) in limits.items()}
        self._rates = {operation: rate for operation, (rate, _) in limits.items()}
        self._issued: dict[str, _Issued] = {}
        self._signing_key = secrets.token_bytes(16)
        self._failures: list[int] = []
        self.tokens_issued = 0
        self.request_log: list[LoggedRequest] = []
        self.seller_id = seller_id
        fba = set(fba_skus)
        # The seller's listings on the marketplace: the catalog unless told otherwise, quantity unknown until set.
        self.listings: dict[str, dict] = {
            sku: {"quantity": None, "fulfillment_channel_code": None, "fulfilled_by_amazon": sku in fba}
            for sku in (listing_skus if listing_skus is not None else [item.sku for item in CATALOG])}

    def __repr__(self) -> str:  # the credentials stay out of reprs
        return f"FakeSellingPartnerAPI({self.base_url!r})"

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    # ---- test hooks -------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next n SP-API requests (not LWA, not downloads) with `status`."""
        with self._lock:
            self._failures.extend([status] * n)

    def listing_quantity(self, sku: str) -> int | None:
        """The merchant-fulfilled quantity last accepted for a listing (None if never set or no such listing)."""
        with self._lock:
            listing = self.listings.get(sku)
            return None if listing is None else listing["quantity"]

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working now."""
        with self._lock:
            self._issued.clear()

    # ---- FakeVendorAPI ----------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], headers, body: bytes = b""):
        operation = None
        try:
            if path == TOKEN_PATH:
                operation = "lwa"
                status, answer, extra = self._token(method, headers, body)
            elif path.startswith(DOWNLOAD_PREFIX):
                operation = "download"
                status, answer, extra = self._download(path, query)
            else:
                operation, route = self._route(method, path)
                status, answer, extra = self._sp_api(operation, route, query, headers, body)
        except ApiError as error:
            status, answer, extra = error.status, error.body(), {}
        except _LwaRefusal as refusal:
            status, answer, extra = refusal.status, refusal.body, {}
        extra = {"x-amzn-RequestId": str(uuid.uuid4()), **extra}
        if operation in self._rates:
            extra["x-amzn-RateLimit-Limit"] = f"{self._rates[operation]}"
        return status, answer, extra

    def log_request(self, method: str, path: str, query: dict[str, str], status: int, headers) -> None:
        operation = _operation_of(method, path)
        with self._lock:
            self.request_log.append(LoggedRequest(method, path, dict(query), status, operation,
                                                  headers.get("x-amz-access-token") is not None))

    # ---- LWA --------------------------------------------------------------------------------
    def _token(self, method: str, headers, body: bytes):
        if method != "POST":
            raise _LwaRefusal(405, "invalid_request", "The token endpoint accepts POST only")
        if "application/x-www-form-urlencoded" not in (headers.get("Content-Type") or ""):
            raise _LwaRefusal(400, "invalid_request", "The request is missing a form body")
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if form.get("grant_type") != "refresh_token":
            raise _LwaRefusal(400, "unsupported_grant_type", "The authorization grant type is not supported")
        if not (hmac.compare_digest(form.get("client_id", ""), self._client_id)
                and hmac.compare_digest(form.get("client_secret", ""), self._client_secret)):
            raise _LwaRefusal(401, "invalid_client", "Client authentication failed")
        if not hmac.compare_digest(form.get("refresh_token", ""), self._refresh_token):
            raise _LwaRefusal(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
        token = "Atza|" + secrets.token_urlsafe(32)
        with self._lock:
            self._issued[token] = _Issued(self._clock() + self.token_lifetime_seconds)
            self.tokens_issued += 1
        return 200, {"access_token": token, "refresh_token": self._refresh_token, "token_type": "bearer",
                     "expires_in": self.token_lifetime_seconds}, {"Cache-Control": "no-cache, no-store"}

    # ---- SP-API -----------------------------------------------------------------------------
    def _route(self, method: str, path: str) -> tuple[str, str]:
        operation = _operation_of(method, path)
        if operation is None:
            raise ApiError(404, "NotFound", "Resource not found")
        return operation, path

    def _sp_api(self, operation: str, path: str, query: dict[str, str], headers, body: bytes = b""):
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            raise ApiError(failure, "InternalFailure" if failure >= 500 else "InjectedFailure",
                           "We encountered an internal error. Please try again.")
        token = headers.get("x-amz-access-token")
        with self._lock:
            issued = self._issued.get(token or "")
            live = issued is not None and self._clock() < issued.expires_at
        if not live:
            details = ("The access token you provided has expired." if issued
                       else "The access token is missing or invalid.")
            raise ApiError(401, "Unauthorized", "Access to requested resource is denied.", details)
        if not self._buckets[operation].take():
            extra = {} if self.retry_after_seconds is None else {"Retry-After": f"{self.retry_after_seconds:g}"}
            quota = ApiError(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
            return 429, quota.body(), extra
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if operation == "searchOrders":
            return 200, self._search_orders(query), {}
        if operation == "getReports":
            return 200, self._reports(query), {}
        if operation == "getReport":
            return 200, self._report(parts[3]), {}
        if operation == "patchListingsItem":
            return 200, self._patch_listing(parts[3], parts[4], query, body), {}
        return 200, self._document(parts[3]), {}

    def _search_orders(self, query: dict[str, str]) -> dict:
        filters = {k: v for k, v in query.items() if k in SEARCH_FILTERS}
        created, updated = "createdAfter" in filters, "lastUpdatedAfter" in filters
        if created == updated:
            raise ApiError(400, "InvalidInput", "Exactly one of createdAfter and lastUpdatedAfter must be given.")
        if ("createdBefore" in filters and updated) or ("lastUpdatedBefore" in filters and created):
            raise ApiError(400, "InvalidInput", "createdBefore goes with createdAfter, lastUpdatedBefore with "
                                                "lastUpdatedAfter.")
        included = set(filter(None, query.get("includedData", "").split(",")))
        if included - set(INCLUDED_DATA):
            raise ApiError(400, "InvalidInput", f"Invalid includedData: {sorted(included - set(INCLUDED_DATA))}.")
        offset = 0
        if "paginationToken" in query:
            state = _decode_token(query["paginationToken"], "searchOrders")
            if state.get("filters") != filters:
                raise ApiError(400, "InvalidInput", "paginationToken must come with the filters it was issued for.")
            offset = state["offset"]
        # The fake may cap pages below Amazon's 100 (a test knob): maxResultsPerPage still counts up to it.
        size = min(_page_size(query.get("maxResultsPerPage"), 100, "maxResultsPerPage"), self.orders_page_size)
        bounds = {name: _timestamp(name, value) for name, value in filters.items() if name != "marketplaceIds"}
        field = "PurchaseDate" if created else "LastUpdateDate"
        after = bounds.get("createdAfter") or bounds.get("lastUpdatedAfter")
        before = bounds.get("createdBefore") or bounds.get("lastUpdatedBefore")
        if before is not None and before < after:
            raise ApiError(400, "InvalidInput", "The Before date must be after the After date.")
        marketplaces = set(filters["marketplaceIds"].split(",")) if filters.get("marketplaceIds") else None
        matching = self.listing(
            ("searchOrders", json.dumps(filters, sort_keys=True)), self.sandbox.orders,
            lambda: sorted((o for o in self.sandbox.orders
                            if (marketplaces is None or o["MarketplaceId"] in marketplaces)
                            and after <= _stamp(o[field]) and (before is None or _stamp(o[field]) <= before)),
                           key=lambda o: (_stamp(o[field]), o["AmazonOrderId"])))
        page = matching[offset:offset + size]
        body: dict[str, Any] = {"orders": [render_order(o, self.sandbox.order_items.get(o["AmazonOrderId"], []),
                                                        included) for o in page]}
        if offset + size < len(matching):
            body["pagination"] = {"nextToken": _encode_token({"op": "searchOrders", "filters": filters,
                                                              "offset": offset + size})}
        body.update({name: filters[name] for name in ("createdBefore", "lastUpdatedBefore") if name in filters})
        return body

    def _reports(self, query: dict[str, str]) -> dict:
        if "nextToken" in query:
            if set(query) != {"nextToken"}:
                raise ApiError(400, "InvalidInput", "nextToken must be the only parameter when it is given.")
            state = _decode_token(query["nextToken"], "getReports")
            filters, offset = state["filters"], state["offset"]
        else:
            if not query.get("reportTypes"):
                raise ApiError(400, "InvalidInput", "reportTypes is required when nextToken is not given.")
            filters, offset = dict(query), 0
        size = _page_size(filters.get("pageSize"), 10, "pageSize")
        types = set(filters["reportTypes"].split(","))
        statuses = set(filters["processingStatuses"].split(",")) if filters.get("processingStatuses") else None
        since = _timestamp("createdSince", filters["createdSince"]) if "createdSince" in filters else None
        until = _timestamp("createdUntil", filters["createdUntil"]) if "createdUntil" in filters else None
        matching = sorted((r for r in self.sandbox.reports if r["reportType"] in types
                           and (statuses is None or r["processingStatus"] in statuses)
                           and (since is None or _stamp(r["createdTime"]) >= since)
                           and (until is None or _stamp(r["createdTime"]) <= until)),
                          key=lambda r: (_stamp(r["createdTime"]), r["reportId"]), reverse=True)
        answer: dict[str, Any] = {"reports": matching[offset:offset + size]}
        if offset + size < len(matching):
            answer["nextToken"] = _encode_token({"op": "getReports", "filters": filters, "offset": offset + size})
        return answer

    def _report(self, report_id: str) -> dict:
        report = next((r for r in self.sandbox.reports if r["reportId"] == report_id), None)
        if report is None:
            raise ApiError(404, "NotFound", "Report not found", f"reportId {report_id}")
        return report

    def _document(self, document_id: str) -> dict:
        if document_id not in self.sandbox.documents:
            raise ApiError(404, "NotFound", "Report document not found")
        url = (f"{self.base_url}{DOWNLOAD_PREFIX}{quote(document_id, safe='')}"
               f"?X-Amz-Expires=300&X-Amz-Signature={self._signature(document_id)}")
        answer = {"reportDocumentId": document_id, "url": url}
        if self.gzip_documents:
            answer["compressionAlgorithm"] = "GZIP"
        return answer

    # ---- Listings Items 2021-08-01 ----------------------------------------------------------
    def _patch_listing(self, seller_id: str, sku: str, query: dict[str, str], body: bytes) -> dict:
        if seller_id != self.seller_id:
            # Amazon answers another seller's id like a missing authorisation: the app may not act for it.
            raise ApiError(403, "Unauthorized", "Access to requested resource is denied.")
        marketplaces = [m for m in query.get("marketplaceIds", "").split(",") if m]
        if not marketplaces:
            raise ApiError(400, "InvalidInput", "Missing required parameter: marketplaceIds.")
        if marketplaces != [MARKETPLACE_ID]:
            raise ApiError(400, "InvalidInput", f"Invalid marketplaceIds: {','.join(marketplaces)}.")
        try:
            request = json.loads(body or b"null")
        except ValueError:
            request = None
        if (not isinstance(request, dict) or not isinstance(request.get("productType"), str)
                or not isinstance(request.get("patches"), list) or not request["patches"]
                or not all(isinstance(p, dict) and p.get("op") in ("add", "replace", "delete")
                           and isinstance(p.get("path"), str) for p in request["patches"])):
            raise ApiError(400, "InvalidInput", "Request has missing or invalid parameters and cannot be parsed.")
        with self._lock:
            listing = self.listings.get(sku)
        if listing is None:
            raise ApiError(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {MARKETPLACE_ID}")
        quantity, issues = listing["quantity"], []
        for patch in request["patches"]:
            if patch["path"] != FULFILLMENT_AVAILABILITY:
                continue  # other attributes (price, title) are accepted and not kept: publishing only sets stock
            quantity, issue = self._fulfillment_quantity(patch, listing)
            issues += [issue] if issue else []
        submission = {"sku": sku, "status": "INVALID" if issues else "ACCEPTED", "submissionId": uuid.uuid4().hex,
                      "issues": issues}
        if not issues:
            with self._lock:
                listing.update(quantity=quantity, fulfillment_channel_code="DEFAULT" if quantity is not None else None)
        return submission

    @staticmethod
    def _fulfillment_quantity(patch: dict, listing: dict) -> tuple[int | None, dict | None]:
        """The quantity a fulfillment_availability patch sets, or the issue Amazon would raise against it."""
        def issue(message: str) -> dict:
            return {"code": "90220", "message": message, "severity": "ERROR",
                    "attributeNames": ["fulfillment_availability"]}

        if patch["op"] == "delete":
            return None, None
        value = patch.get("value")
        default = [v for v in value if isinstance(v, dict) and v.get("fulfillment_channel_code") == "DEFAULT"] \
            if isinstance(value, list) else []
        if len(default) != 1:
            return None, issue("'fulfillment_availability' needs one entry with fulfillment_channel_code DEFAULT.")
        quantity = default[0].get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            return None, issue(f"'quantity' must be a whole number of 0 or more, not {quantity!r}.")
        if listing["fulfilled_by_amazon"]:
            return None, issue("This listing is fulfilled by Amazon: its quantity comes from Amazon's fulfilment "
                               "centres and cannot be set with fulfillment_channel_code DEFAULT.")
        return quantity, None

    # ---- the pre-signed download ------------------------------------------------------------
    def _signature(self, document_id: str) -> str:
        return hmac.new(self._signing_key, document_id.encode(), hashlib.sha256).hexdigest()

    def _download(self, path: str, query: dict[str, str]):
        document_id = unquote(path[len(DOWNLOAD_PREFIX):])
        content = self.sandbox.documents.get(document_id)
        if content is None or not hmac.compare_digest(query.get("X-Amz-Signature", ""), self._signature(document_id)):
            return 403, b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", {
                "Content-Type": "application/xml"}
        if self.gzip_documents:
            content = gzip.compress(content, mtime=0)  # mtime 0: the same document is the same bytes
        return 200, content, {"Content-Type": "application/octet-stream"}


class _LwaRefusal(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(status, error)
        self.status = status
        self.body = {"error": error, "error_description": description}


def _operation_of(method: str, path: str) -> str | None:
    if path == TOKEN_PATH:
        return "lwa"
    if path.startswith(DOWNLOAD_PREFIX):
        return "download"
    parts = path.strip("/").split("/")
    if method == "PATCH" and parts[:3] == LISTINGS_PREFIX and len(parts) == 5:
        return "patchListingsItem"
    if method != "GET":
        return None
    if parts == ["orders", "2026-01-01", "orders"]:
        return "searchOrders"
    if parts[:2] == ["reports", "2021-06-30"] and len(parts) in (3, 4):
        if parts[2] == "reports":
            return "getReports" if len(parts) == 3 else "getReport"
        if parts[2] == "documents" and len(parts) == 4:
            return "getReportDocument"
    return None
