"""Publish available-to-sell to Shopify, per location: POST inventory_levels/set.json for each change.

    publisher = ShopifyInventoryLevelsPublisher(shop_url, access_token)      # as ShopifyResource holds them
    publisher.push([AtsChange("shopify_web", "TEE-BLK-M", "WH-NJ", 7), ...]) -> [PushResult, ...]

Shopify keys stock by ids, the retailer by codes: each push first reads the shop's locations
(locations.json) and products (products.json, every page), once, and maps a location code to a
location id and a SKU to its variant's inventory_item_id. A Shopify location has no code field: the
shop is expected to name each location by its canonical code ("WH-NJ"); `location_names` maps a
code to another name where a shop is named differently ({"ST-NYC": "SoHo store"}). The ids are
read again on every push, so a product re-created in the admin is found the next cycle.

Then each change is one POST {location_id, inventory_item_id, available}: an absolute quantity, so
a retry after a 5xx or 429 cannot double-count, and the shared retries apply. A SKU the shop does not
have, a location it does not know, or a 422 for the item (untracked inventory) is a failed result with
the reason, and the push goes on. A refused token, an outage beyond the retries or a nonsense answer
raises ShopifyAPIError. The reference of a pushed change names the level and when Shopify stamped it:
`inventory_level:<inventory_item_id>:<location_id>@<updated_at>`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests

from connectors.ats_publishing import AtsChange, PushResult, refuses_item, require_location_grain
from connectors.http_retry import RetriesExhausted, path_of, send_with_retries
from connectors.shopify.client import TOKEN_HEADER, ShopifyAdminClient, ShopifyAPIError

SET_PATH = "inventory_levels/set.json"
PRODUCTS_PAGE_SIZE = 250  # Shopify's maximum: the fewest pages for a whole catalog
ERROR_TEXT_CHARS = 300


@dataclass(frozen=True)
class ShopIds:
    """What one push needs to know of the shop: location ids by name, inventory item ids by SKU."""

    location_ids: dict[str, int]  # location name -> id (active locations only)
    inventory_items: dict[str, list[int]]  # SKU -> inventory_item_id of each variant carrying it


class ShopifyInventoryLevelsPublisher:
    def __init__(self, shop_url: str, access_token: str, *, api_version: str = "2026-07",
                 location_names: Mapping[str, str] | None = None, max_retries: int = 6,
                 backoff_seconds: float = 0.5, timeout: float = 30, session: requests.Session | None = None):
        # The admin client puts the token on this session: reads and writes share one keep-alive
        # connection and the client's auth, and the token is never held anywhere else here.
        self._session = session or requests.Session()
        self.admin = ShopifyAdminClient(shop_url, access_token, api_version=api_version, max_retries=max_retries,
                                        backoff_seconds=backoff_seconds, timeout=timeout, session=self._session)
        self.location_names = dict(location_names or {})

    def __repr__(self) -> str:
        return f"ShopifyInventoryLevelsPublisher({self.admin.shop_url!r}, api_version={self.admin.api_version!r})"

    def push(self, changes: list[AtsChange]) -> list[PushResult]:
        changes = list(changes)
        require_location_grain(changes, "Shopify")
        if not changes:
            return []
        ids = self.shop_ids()
        return [self._set(change, ids) for change in changes]

    # ---- ids ----------------------------------------------------------------------------------
    def shop_ids(self) -> ShopIds:
        """The shop's location and inventory item ids, read fresh (one push's worth of requests)."""
        locations = {}
        for page in self.admin.get_pages("locations.json", {}, "locations"):
            for location in page.records:
                # An inactive location cannot stock anything: setting a level there is refused anyway.
                if location.get("active", True) and location.get("name"):
                    locations[location["name"]] = int(location["id"])
        items: dict[str, list[int]] = {}
        for page in self.admin.get_pages("products.json", {"limit": PRODUCTS_PAGE_SIZE}, "products"):
            for product in page.records:
                for variant in product.get("variants") or []:
                    sku = (variant.get("sku") or "").strip()
                    if sku and variant.get("inventory_item_id") is not None:
                        items.setdefault(sku, []).append(int(variant["inventory_item_id"]))
        return ShopIds(locations, items)

    # ---- one change ---------------------------------------------------------------------------
    def _set(self, change: AtsChange, ids: ShopIds) -> PushResult:
        name = self.location_names.get(change.location_id, change.location_id)
        location_id = ids.location_ids.get(name)
        if location_id is None:
            known = ", ".join(sorted(ids.location_ids)) or "none"
            return PushResult.failed(change, f"no active Shopify location named {name!r} (the shop has: {known})")
        variants = ids.inventory_items.get(change.sku, [])
        if not variants:
            return PushResult.failed(change, f"SKU {change.sku} is on no product variant in the shop")
        if len(variants) > 1:
            # Setting one of them would leave the others selling stale stock: a catalog fix, not a guess.
            return PushResult.failed(change, f"SKU {change.sku} is on {len(variants)} product variants in the shop")
        # An untracked item is not second-guessed here: Shopify's own 422 says so, in its words.
        inventory_item_id = variants[0]
        body = {"location_id": location_id, "inventory_item_id": inventory_item_id, "available": change.quantity}
        response = self._post(body)
        status = response.status_code
        if status == 200:
            return PushResult.pushed(change, self._reference(response, body))
        if refuses_item(status):
            return PushResult.failed(change, f"Shopify answered {status}: {self._errors(response)}")
        raise self._error(response)

    def _post(self, body: dict) -> requests.Response:
        url = self.admin.url_for(SET_PATH)
        try:
            return send_with_retries(self._session, "POST", url, vendor="Shopify", timeout=self.admin.timeout,
                                     max_retries=self.admin.max_retries, backoff_seconds=self.admin.backoff_seconds,
                                     json=body)
        except RetriesExhausted as error:
            raise ShopifyAPIError(str(error), status=None, path=path_of(url)) from None

    def _reference(self, response: requests.Response, sent: dict) -> str:
        try:
            level = response.json()["inventory_level"]
            item, location, available = level["inventory_item_id"], level["location_id"], level["available"]
        except (ValueError, KeyError, TypeError):
            raise ShopifyAPIError(f"Shopify answered POST {SET_PATH} 200 without an inventory_level",
                                  status=200, path=self._path(), body=self._redact(response.text)) from None
        if (item, location, available) != (sent["inventory_item_id"], sent["location_id"], sent["available"]):
            # Recording "pushed" for a level Shopify did not set would hide an oversell risk.
            raise ShopifyAPIError(f"Shopify answered POST {SET_PATH} with a different level ({item}@{location}: "
                                  f"{available}) than the one set", status=200, path=self._path())
        return f"inventory_level:{item}:{location}@{level.get('updated_at')}"

    def _errors(self, response: requests.Response) -> str:
        """Shopify's `errors` value as one line: it is a string, a list or a field -> messages object."""
        try:
            errors = response.json().get("errors")
        except (ValueError, AttributeError):
            errors = None
        if isinstance(errors, dict):
            text = "; ".join(f"{field}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                             for field, v in errors.items())
        elif isinstance(errors, list):
            text = "; ".join(map(str, errors))
        else:
            text = str(errors) if errors else response.text
        return self._redact(text)[:ERROR_TEXT_CHARS]

    def _error(self, response: requests.Response) -> ShopifyAPIError:
        status, path, errors = response.status_code, self._path(), self._errors(response)
        if status < 400:
            what = f"redirected POST {path} ({status}); redirects are not followed"
        elif status == 401:
            what = f"rejected the access token (401) for POST {path}"
        elif status == 403:
            what = f"refused POST {path} (403): the app needs the write_inventory scope"
        elif status >= 500 or status == 429:
            what = f"still failing POST {path} after {self.admin.max_retries} retries (HTTP {status})"
        else:
            what = f"answered {status} for POST {path}"
        return ShopifyAPIError(f"Shopify {what}: {errors}", status=status, path=path, body=errors)

    def _path(self) -> str:
        return path_of(self.admin.url_for(SET_PATH))

    def _redact(self, text: str) -> str:
        token = self._session.headers.get(TOKEN_HEADER)
        return text.replace(token, "[redacted]") if token else text
