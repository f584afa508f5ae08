"""Publish available-to-sell to Amazon: one Listings Items patch of `fulfillment_availability` per SKU.

    publisher = AmazonListingsPublisher(sp_client, seller_id="A3SANDBOXOMNI7")   # sp_client: SellingPartnerClient
    publisher.push([AtsChange("amazon", "TEE-BLK-M", None, 12), ...]) -> [PushResult, ...]

Amazon sells the network's stock (the grain is the SKU, no location). Each change is
PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=<the client's marketplace> with

    {"productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
     "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": n}]}]}

`PRODUCT` is the product type Amazon accepts for an offer-only patch of an existing listing, and
DEFAULT is the merchant-fulfilled channel: the quantity of an FBA listing is Amazon's to count.
The patch sets an absolute quantity, so retrying it after a 429 or 5xx is safe. Amazon answers 200
with status ACCEPTED (pushed; the reference is the submissionId, and Amazon applies it within
minutes) or INVALID with issues (failed, with the ERROR issues' messages); a 4xx about the item (404
NOT_FOUND for a SKU the seller does not list, 400 InvalidInput) is failed too, and the push goes on.

Access tokens come from the SellingPartnerClient's Login-with-Amazon handling (cached, refreshed
once after a 401/403, as its reads do). A refused credential, an outage beyond the retries, or an
access refused even with a fresh token (the app lacks the Product Listing role, or the seller id is
not the authorised seller's) raises SellingPartnerAPIError; secrets never appear in its message.
"""
from __future__ import annotations

from urllib.parse import quote

import requests

from connectors.amazon.client import TOKEN_HEADER, SellingPartnerAPIError, SellingPartnerClient
from connectors.amazon.lwa import LwaError
from connectors.ats_publishing import AtsChange, PushResult, refuses_item, require_network_grain
from connectors.http_retry import RetriesExhausted, path_of, send_with_retries

LISTINGS_ITEMS_PATH = "/listings/2021-08-01/items"
FULFILLMENT_AVAILABILITY = "/attributes/fulfillment_availability"
MERCHANT_FULFILLED = "DEFAULT"
ERROR_TEXT_CHARS = 300


class AmazonListingsPublisher:
    def __init__(self, client: SellingPartnerClient, seller_id: str, *, product_type: str = "PRODUCT",
                 issue_locale: str = "en_US", session: requests.Session | None = None):
        if not seller_id:
            raise ValueError("publishing to Amazon needs the seller id (merchant token) the listings belong to")
        self.client = client
        self.seller_id = seller_id
        self.product_type = product_type
        self.issue_locale = issue_locale
        # Its own session: the access token goes on each request, never onto a shared session's headers.
        self._session = session or requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": "omnirecon/1.0 (Language=Python)"})

    def __repr__(self) -> str:
        return (f"AmazonListingsPublisher(seller_id={self.seller_id!r}, marketplace_id={self.client.marketplace_id!r}, "
                f"base_url={self.client.base_url!r})")

    def push(self, changes: list[AtsChange]) -> list[PushResult]:
        changes = list(changes)
        require_network_grain(changes, "Amazon")
        return [self._patch(change) for change in changes]

    def patch_body(self, quantity: int) -> dict:
        return {"productType": self.product_type,
                "patches": [{"op": "replace", "path": FULFILLMENT_AVAILABILITY,
                             "value": [{"fulfillment_channel_code": MERCHANT_FULFILLED, "quantity": quantity}]}]}

    # ---- one change ---------------------------------------------------------------------------
    def _patch(self, change: AtsChange) -> PushResult:
        # SKUs may hold '/', '#' or spaces: every character outside the unreserved set is escaped.
        path = f"{LISTINGS_ITEMS_PATH}/{quote(self.seller_id, safe='')}/{quote(change.sku, safe='')}"
        response = self._send(path, self.patch_body(change.quantity))
        status = response.status_code
        if status == 200:
            return self._submission(change, response, path)
        if refuses_item(status):
            return PushResult.failed(change, f"SP-API answered {status}: {self._errors(response)[1]}")
        raise self._error(response, path)

    def _submission(self, change: AtsChange, response: requests.Response, path: str) -> PushResult:
        try:
            body = response.json()
            state, submission_id, issues = body["status"], body.get("submissionId"), body.get("issues") or []
        except (ValueError, KeyError, TypeError):
            raise SellingPartnerAPIError(f"SP-API answered PATCH {path} 200 without a submission status",
                                         status=200, path=path, body=self._redact(response.text)) from None
        if state == "ACCEPTED":
            return PushResult.pushed(change, submission_id)
        if state == "INVALID":
            errors = [i for i in issues if isinstance(i, dict) and i.get("severity") == "ERROR"] or issues
            text = "; ".join(f"{i.get('code')}: {i.get('message')}" if isinstance(i, dict) else str(i) for i in errors)
            return PushResult.failed(change, f"SP-API refused the submission (INVALID): {self._redact(text)}"
                                             [:ERROR_TEXT_CHARS])
        # VALID is only the answer to a validation preview, which this publisher never asks for.
        raise SellingPartnerAPIError(f"SP-API answered PATCH {path} with submission status {state!r}",
                                     status=200, path=path)

    def _send(self, path: str, body: dict) -> requests.Response:
        url = f"{self.client.base_url}{path}"
        params = {"marketplaceIds": self.client.marketplace_id, "issueLocale": self.issue_locale}
        for attempt in ("first", "after refresh"):
            try:
                token = self.client.lwa.access_token()
            except LwaError as error:  # LwaError's message is already free of secrets
                raise SellingPartnerAPIError(str(error), status=error.status, path=path_of(self.client.lwa.token_url),
                                             code=error.error) from None
            try:
                response = send_with_retries(self._session, "PATCH", url, vendor="SP-API", timeout=self.client.timeout,
                                             max_retries=self.client.max_retries,
                                             backoff_seconds=self.client.backoff_seconds, params=params, json=body,
                                             headers={TOKEN_HEADER: token})
            except RetriesExhausted as error:
                raise SellingPartnerAPIError(str(error), status=None, path=path) from None
            if response.status_code in (401, 403) and attempt == "first":
                self.client.lwa.invalidate()  # expired or revoked early: one fresh token, one more try
                continue
            return response
        raise AssertionError("unreachable")

    def _errors(self, response: requests.Response) -> tuple[str | None, str]:
        """The first error's code, and SP-API's errors ([{code, message, details}]) as one line."""
        try:
            errors = response.json().get("errors") or []
            code = errors[0].get("code") if errors else None
            text = "; ".join(f"{e.get('code')}: {e.get('message')}" + (f" ({e['details']})" if e.get("details") else "")
                             for e in errors)
        except (ValueError, AttributeError, TypeError):
            code, text = None, ""
        return code, self._redact(text or response.text)[:ERROR_TEXT_CHARS]

    def _error(self, response: requests.Response, path: str) -> SellingPartnerAPIError:
        status, (code, errors) = response.status_code, self._errors(response)
        if status < 400:
            what = f"redirected PATCH {path} ({status}); redirects are not followed"
        elif status in (401, 403):
            what = (f"refused PATCH {path} ({status}) even with a fresh access token: check that the app has the "
                    f"Product Listing role and that {self.seller_id!r} is the authorised seller's id")
        elif status == 429 or status >= 500:
            what = f"still failing PATCH {path} after {self.client.max_retries} retries (HTTP {status})"
        else:
            what = f"answered {status} for PATCH {path}"
        return SellingPartnerAPIError(f"SP-API {what}: {errors}", status=status, path=path, body=errors, code=code)

    def _redact(self, text: str) -> str:
        return self.client.lwa.redact(text)
