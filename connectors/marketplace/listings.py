"""Publish available-to-sell to a regional marketplace's listing API: PUT /v1/listings/{sku}/quantity.

    publisher = MarketplaceListingsPublisher(base_url, api_token, marketplace="bazaarly")
    publisher.push([AtsChange("marketplace_bazaarly", "TEE-BLK-M", None, 3), ...]) -> [PushResult, ...]

The marketplace sells the network's stock (one quantity per SKU, no location). Each change is one
PUT {"quantity": n} with `Authorization: Bearer <api token>`; the answer is 200 {"sku", "quantity",
"updated_at"} (pushed; the reference is the listing's `updated_at`). A PUT of an absolute quantity is
idempotent, so 429/5xx and broken connections are retried. A 404 (the seller has no listing for
the SKU) or 422 (a quantity refused) is a failed result with the marketplace's message, and the push
goes on; a rejected token (401/403), an outage beyond the retries or a nonsense answer raises
MarketplaceAPIError. The marketplace is not a public API with a known address: base_url is required.
The token travels only in the Authorization header and never appears in a repr or an error.
"""
from __future__ import annotations

from urllib.parse import quote

import requests

from connectors.ats_publishing import AtsChange, PushResult, refuses_item, require_network_grain
from connectors.http_retry import RetriesExhausted, VendorAPIError, path_of, send_with_retries

ERROR_TEXT_CHARS = 300


class MarketplaceAPIError(VendorAPIError):
    """A marketplace listing request that failed for good: status (None if no response), path, the error code."""


class MarketplaceListingsPublisher:
    def __init__(self, base_url: str, api_token: str, *, marketplace: str = "bazaarly", max_retries: int = 6,
                 backoff_seconds: float = 0.5, timeout: float = 30, session: requests.Session | None = None):
        if not base_url:
            raise ValueError(f"the {marketplace} listing API needs a base URL")
        if not api_token:
            raise ValueError(f"the {marketplace} listing API needs an API token")
        self.base_url = base_url.strip().rstrip("/")
        self.marketplace = marketplace
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout
        self._token = api_token
        self._session = session or requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {api_token}", "Accept": "application/json"})

    def __repr__(self) -> str:
        return f"MarketplaceListingsPublisher({self.base_url!r}, marketplace={self.marketplace!r})"

    def push(self, changes: list[AtsChange]) -> list[PushResult]:
        changes = list(changes)
        require_network_grain(changes, self.marketplace)
        return [self._put(change) for change in changes]

    def _put(self, change: AtsChange) -> PushResult:
        # A SKU is one path segment: '/', '#', '?' and spaces in it are escaped.
        url = f"{self.base_url}/v1/listings/{quote(change.sku, safe='')}/quantity"
        try:
            response = send_with_retries(self._session, "PUT", url, vendor=self.marketplace, timeout=self.timeout,
                                         max_retries=self.max_retries, backoff_seconds=self.backoff_seconds,
                                         json={"quantity": change.quantity})
        except RetriesExhausted as error:
            raise MarketplaceAPIError(str(error), status=None, path=path_of(url)) from None
        status = response.status_code
        if status == 200:
            return PushResult.pushed(change, self._updated_at(response, change, url))
        code, message = self._error(response)
        if refuses_item(status):
            return PushResult.failed(change, f"{self.marketplace} answered {status} {code or ''}".rstrip()
                                     + f": {message}")
        raise MarketplaceAPIError(f"{self.marketplace} {self._what(status)} for PUT {path_of(url)}: {message}",
                                  status=status, path=path_of(url), body=message, code=code)

    def _updated_at(self, response: requests.Response, change: AtsChange, url: str) -> str | None:
        try:
            listing = response.json()
            quantity, updated_at = listing["quantity"], listing.get("updated_at")
        except (ValueError, KeyError, TypeError):
            raise MarketplaceAPIError(f"{self.marketplace} answered PUT {path_of(url)} 200 without the listing",
                                      status=200, path=path_of(url), body=self._redact(response.text)) from None
        if quantity != change.quantity:
            # "pushed" must mean the marketplace holds this quantity: anything else would hide an oversell risk.
            raise MarketplaceAPIError(f"{self.marketplace} answered PUT {path_of(url)} with quantity {quantity!r}, "
                                      f"not the {change.quantity} sent", status=200, path=path_of(url))
        return updated_at

    def _what(self, status: int) -> str:
        if status < 400:
            return f"redirected ({status}), which is not followed,"
        if status == 401:
            return "rejected the API token (401)"
        if status == 403:
            return "refused access with this API token (403)"
        if status == 429 or status >= 500:
            return f"still failing after {self.max_retries} retries (HTTP {status})"
        return f"answered {status}"

    def _error(self, response: requests.Response) -> tuple[str | None, str]:
        try:
            body = response.json()
            code, message = body.get("error"), body.get("message")
        except (ValueError, AttributeError):
            code, message = None, None
        return code, self._redact(str(message or response.text))[:ERROR_TEXT_CHARS]

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "[redacted]")
