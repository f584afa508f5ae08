"""The ATS publishers against their channels' fake APIs on loopback: real HTTP, no mocks.

Each publisher must land every quantity it reports as pushed, let one refused item fail alone while
the rest land, retry a 5xx (an absolute quantity is safe to send twice), and stop with a clear error
that never shows the secret when the credential is refused.
"""
from __future__ import annotations

import pytest

from connectors.amazon.client import SellingPartnerAPIError, SellingPartnerClient
from connectors.amazon.listings import AmazonListingsPublisher
from connectors.ats_publishing import AtsChange, AtsPublisher, PushResult
from connectors.marketplace.listings import MarketplaceAPIError, MarketplaceListingsPublisher
from connectors.sandbox.amazon_api import SANDBOX_SELLER_ID, FakeSellingPartnerAPI
from connectors.sandbox.channels.amazon import AmazonSandbox
from connectors.sandbox.marketplace_api import FakeMarketplaceListingsAPI
from connectors.sandbox.shopify_api import FakeShopifyAdminAPI, ShopifyStore
from connectors.shopify.client import ShopifyAPIError
from connectors.shopify.inventory_levels import ShopifyInventoryLevelsPublisher

FAST = {"backoff_seconds": 0.001, "max_retries": 3, "timeout": 5}


def _statuses(results: list[PushResult]) -> list[str]:
    return [result.status for result in results]


def _web(sku: str, location: str, quantity: int) -> AtsChange:
    return AtsChange("shopify_web", sku, location, quantity)


# ---- Shopify: inventory levels per location ---------------------------------------------------

SHOPIFY_TOKEN = "shpat_publish_0123456789abcdef"
SET_PATH = "/admin/api/2026-07/inventory_levels/set.json"


def _untracked_gift_card() -> dict:
    return {"id": 81_999_000_001, "title": "Gift card $50", "status": "active", "variants": [
        {"id": 44_199_000_001, "product_id": 81_999_000_001, "sku": "GIFT-50", "inventory_item_id": 45_299_000_001,
         "inventory_management": None}]}


@pytest.fixture
def shop():
    store = ShopifyStore(orders=[], transactions={}, payouts=[], balance_transactions=[])
    store.products.append(_untracked_gift_card())
    with FakeShopifyAdminAPI(store, SHOPIFY_TOKEN, bucket_size=1000, retry_after_seconds=0.01) as running:
        yield running


def _shopify(api, token: str = SHOPIFY_TOKEN, **options) -> ShopifyInventoryLevelsPublisher:
    return ShopifyInventoryLevelsPublisher(api.base_url, token, **{**FAST, **options})


def _sets(api) -> list:
    return [r for r in api.request_log if r.method == "POST" and r.path == SET_PATH]


def test_shopify_levels_land_at_each_location_and_ids_are_read_once_per_push(shop):
    publisher = _shopify(shop)
    changes = [_web("TEE-BLK-M", "WH-NJ", 7), _web("TEE-BLK-M", "ST-NYC", 2), _web("CAP-NVY", "WH-NJ", 0)]

    results = publisher.push(changes)

    assert _statuses(results) == ["pushed"] * 3 and [r.change for r in results] == changes
    assert all(r.reference.startswith("inventory_level:") and r.error is None for r in results)
    assert shop.inventory_level("TEE-BLK-M", "WH-NJ") == 7
    assert shop.inventory_level("TEE-BLK-M", "ST-NYC") == 2
    assert shop.inventory_level("CAP-NVY", "WH-NJ") == 0
    assert shop.inventory_level("CAP-NVY", "ST-NYC") is None  # nothing sent, nothing set
    gets = [r.path.rsplit("/", 1)[-1] for r in shop.request_log if r.method == "GET"]
    assert gets == ["locations.json", "products.json"] and len(_sets(shop)) == 3

    publisher.push([_web("TEE-BLK-M", "WH-NJ", 6)])  # the next cycle reads the ids again (products change)
    assert shop.inventory_level("TEE-BLK-M", "WH-NJ") == 6
    assert [r.path.rsplit("/", 1)[-1] for r in shop.request_log if r.method == "GET"] == gets * 2


def test_shopify_a_refused_item_fails_alone_and_the_rest_land(shop):
    changes = [_web("TEE-BLK-M", "WH-NJ", 5), _web("NOT-A-SKU", "WH-NJ", 3), _web("CAP-NVY", "ST-XYZ", 1),
               _web("GIFT-50", "WH-NJ", 9), _web("HOOD-GRY-M", "ST-NYC", 4)]

    results = _shopify(shop).push(changes)

    assert _statuses(results) == ["pushed", "failed", "failed", "failed", "pushed"]
    assert "NOT-A-SKU" in results[1].error
    assert "'ST-XYZ'" in results[2].error and "WH-NJ" in results[2].error  # names what the shop does have
    assert results[3].error == "Shopify answered 422: Inventory item does not have inventory tracking enabled"
    assert all(r.reference is None for r in results[1:4])
    assert shop.inventory_level("TEE-BLK-M", "WH-NJ") == 5 and shop.inventory_level("HOOD-GRY-M", "ST-NYC") == 4
    assert shop.inventory_level("GIFT-50", "WH-NJ") is None
    # Only what could be resolved was sent: the unknown SKU and location cost no request.
    assert [r.status for r in _sets(shop)] == [200, 422, 200]


def test_shopify_a_sku_on_two_variants_is_not_guessed(shop):
    shop.store.products.append({"id": 81_999_000_002, "title": "Tee (old listing)", "variants": [
        {"id": 44_199_000_002, "product_id": 81_999_000_002, "sku": "TEE-WHT-L", "inventory_item_id": 45_299_000_002,
         "inventory_management": "shopify"}]})

    [result] = _shopify(shop).push([_web("TEE-WHT-L", "WH-NJ", 3)])

    assert result.status == "failed" and "2 product variants" in result.error and not _sets(shop)


def test_shopify_skus_on_later_product_pages_and_renamed_locations_are_found(shop):
    filler = [{"id": 82_000_000_000 + i, "title": f"Archive {i}", "variants": [
        {"id": 44_300_000_000 + i, "product_id": 82_000_000_000 + i, "sku": f"ARCH-{i:03d}",
         "inventory_item_id": 45_300_000_000 + i, "inventory_management": "shopify"}]} for i in range(300)]
    shop.store.products.extend(filler)  # ids above the catalog's: ARCH-299 is on the second page of 250
    nyc = next(loc for loc in shop.store.locations if loc["name"] == "ST-NYC")
    nyc["name"] = "SoHo store"
    publisher = _shopify(shop, location_names={"ST-NYC": "SoHo store"})

    results = publisher.push([_web("ARCH-299", "ST-NYC", 8)])

    assert _statuses(results) == ["pushed"]
    assert len([r for r in shop.request_log if r.path.endswith("/products.json")]) == 2
    assert shop.inventory_level("ARCH-299", "SoHo store") == 8


def test_shopify_a_5xx_on_a_set_is_retried_and_lands(shop):
    shop.fail_next_inventory_sets(2)

    [result] = _shopify(shop).push([_web("SOCK-3PK", "WH-NJ", 11)])

    assert result.status == "pushed" and shop.inventory_level("SOCK-3PK", "WH-NJ") == 11
    assert [r.status for r in _sets(shop)] == [500, 500, 200]


def test_shopify_an_outage_beyond_the_retries_raises(shop):
    shop.fail_next_inventory_sets(10, status=503)

    with pytest.raises(ShopifyAPIError) as raised:
        _shopify(shop, max_retries=2).push([_web("SOCK-3PK", "WH-NJ", 11)])

    assert raised.value.status == 503 and "after 2 retries" in str(raised.value)
    assert shop.inventory_level("SOCK-3PK", "WH-NJ") is None


def test_shopify_a_refused_token_stops_the_push_without_showing_it(shop):
    wrong = "shpat_wrong_but_secret_9f8e7d6c5b4a"
    publisher = _shopify(shop, token=wrong)

    with pytest.raises(ShopifyAPIError) as raised:
        publisher.push([_web("TEE-BLK-M", "WH-NJ", 5)])

    assert raised.value.status == 401 and "access token" in str(raised.value)
    for text in (str(raised.value), raised.value.body, repr(publisher)):
        assert wrong not in text and SHOPIFY_TOKEN not in text
    assert not _sets(shop) and shop.inventory_level("TEE-BLK-M", "WH-NJ") is None


def test_shopify_needs_a_location_on_every_change(shop):
    with pytest.raises(ValueError, match="per location"):
        _shopify(shop).push([_web("TEE-BLK-M", "WH-NJ", 1), AtsChange("shopify_web", "CAP-NVY", None, 2)])
    assert shop.request_log == []  # refused before anything was sent


# ---- Amazon: Listings Items fulfillment_availability --------------------------------------------

CLIENT_ID = "amzn1.application-oa2-client.publish0123"
CLIENT_SECRET = "amzn1.oa2-cs.v1.publish-secret-do-not-log-5e6f"
REFRESH_TOKEN = "Atzr|IwEBIpublish-refresh-do-not-log-7a8b"


def _amazon_sandbox() -> AmazonSandbox:
    return AmazonSandbox(orders=[], order_items={}, reports=[], documents={}, settlements=[], inbox_files={})


@pytest.fixture
def seller_central():
    with FakeSellingPartnerAPI(_amazon_sandbox(), CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN,
                               fba_skus=["BTL-STEEL"]) as running:
        yield running


def _amazon(api, *, seller_id: str = SANDBOX_SELLER_ID, client_secret: str = CLIENT_SECRET,
            **options) -> AmazonListingsPublisher:
    client = SellingPartnerClient(CLIENT_ID, client_secret, REFRESH_TOKEN, base_url=api.base_url,
                                  token_url=api.token_url, **{**FAST, **options})
    return AmazonListingsPublisher(client, seller_id)


def _patches(api) -> list:
    return [r for r in api.request_log if r.operation == "patchListingsItem"]


def _network(channel: str, sku: str, quantity: int) -> AtsChange:
    return AtsChange(channel, sku, None, quantity)


def test_amazon_quantities_land_with_one_access_token(seller_central):
    changes = [_network("amazon", "TEE-BLK-M", 12), _network("amazon", "CAP-NVY", 0),
               _network("amazon", "HOOD-GRY-M", 3)]

    results = _amazon(seller_central).push(changes)

    assert _statuses(results) == ["pushed"] * 3
    assert all(len(r.reference) == 32 for r in results)  # the submissionId
    assert [seller_central.listing_quantity(c.sku) for c in changes] == [12, 0, 3]
    assert seller_central.tokens_issued == 1
    patches = _patches(seller_central)
    assert all(p.method == "PATCH" and p.had_token and p.status == 200 for p in patches) and len(patches) == 3
    assert patches[0].path == f"/listings/2021-08-01/items/{SANDBOX_SELLER_ID}/TEE-BLK-M"
    assert patches[0].query["marketplaceIds"] == "ATVPDKIKX0DER"


def test_amazon_an_unknown_sku_and_an_invalid_submission_fail_alone(seller_central):
    changes = [_network("amazon", "TEE-BLK-M", 4), _network("amazon", "NOT-LISTED", 2),
               _network("amazon", "BTL-STEEL", 6), _network("amazon", "SOCK-3PK", 1)]

    results = _amazon(seller_central).push(changes)

    assert _statuses(results) == ["pushed", "failed", "failed", "pushed"]
    assert results[1].error.startswith("SP-API answered 404: NOT_FOUND") and "NOT-LISTED" in results[1].error
    assert "(INVALID)" in results[2].error and "fulfilled by Amazon" in results[2].error
    assert seller_central.listing_quantity("TEE-BLK-M") == 4 and seller_central.listing_quantity("SOCK-3PK") == 1
    assert seller_central.listing_quantity("BTL-STEEL") is None


def test_amazon_skus_with_reserved_characters_reach_their_listing(seller_central):
    sku = "KIT/2 #A"  # Amazon answers 403 to a '/' or '#' left unescaped in the path
    seller_central.listings[sku] = {"quantity": None, "fulfillment_channel_code": None, "fulfilled_by_amazon": False}

    [result] = _amazon(seller_central).push([_network("amazon", sku, 5)])

    assert result.status == "pushed" and seller_central.listing_quantity(sku) == 5


def test_amazon_a_5xx_is_retried_and_lands(seller_central):
    seller_central.fail_next(1, status=500)

    [result] = _amazon(seller_central).push([_network("amazon", "BAG-TOTE", 9)])

    assert result.status == "pushed" and seller_central.listing_quantity("BAG-TOTE") == 9
    assert [p.status for p in _patches(seller_central)] == [500, 200]


def test_amazon_an_expired_access_token_is_refreshed_once(seller_central):
    publisher = _amazon(seller_central)
    publisher.push([_network("amazon", "BAG-TOTE", 1)])
    seller_central.expire_access_tokens()  # revoked early: the cached token is refused

    [result] = publisher.push([_network("amazon", "BAG-TOTE", 2)])

    assert result.status == "pushed" and seller_central.listing_quantity("BAG-TOTE") == 2
    assert seller_central.tokens_issued == 2
    assert [p.status for p in _patches(seller_central)] == [200, 401, 200]


def test_amazon_a_refused_credential_stops_the_push_without_showing_secrets(seller_central):
    wrong = "amzn1.oa2-cs.v1.wrong-secret-also-private-1a2b"
    publisher = _amazon(seller_central, client_secret=wrong)

    with pytest.raises(SellingPartnerAPIError) as raised:
        publisher.push([_network("amazon", "TEE-BLK-M", 5)])

    assert raised.value.status == 401 and "invalid_client" in str(raised.value)
    for text in (str(raised.value), repr(publisher), repr(publisher.client.lwa)):
        assert wrong not in text and CLIENT_SECRET not in text and REFRESH_TOKEN not in text
    assert not _patches(seller_central) and seller_central.listing_quantity("TEE-BLK-M") is None


def test_amazon_another_sellers_id_is_refused_with_a_hint(seller_central):
    with pytest.raises(SellingPartnerAPIError) as raised:
        _amazon(seller_central, seller_id="A1OTHERSELLER").push([_network("amazon", "TEE-BLK-M", 5)])

    assert raised.value.status == 403 and "A1OTHERSELLER" in str(raised.value)
    assert [p.status for p in _patches(seller_central)] == [403, 403]  # once more with a fresh token, then stop


def test_amazon_takes_network_grain_only(seller_central):
    with pytest.raises(ValueError, match="network-grain"):
        _amazon(seller_central).push([AtsChange("amazon", "TEE-BLK-M", "WH-NJ", 5)])
    assert seller_central.request_log == []


# ---- the regional marketplace's listing API -------------------------------------------------------

MARKETPLACE_TOKEN = "mkt_live_publish_0123456789abcdef"


@pytest.fixture
def bazaarly():
    with FakeMarketplaceListingsAPI(MARKETPLACE_TOKEN) as running:
        yield running


def _marketplace(api, token: str = MARKETPLACE_TOKEN, **options) -> MarketplaceListingsPublisher:
    return MarketplaceListingsPublisher(api.base_url, token, **{**FAST, **options})


def test_marketplace_quantities_land(bazaarly):
    changes = [_network("marketplace_bazaarly", "TEE-BLK-M", 3), _network("marketplace_bazaarly", "CAP-NVY", 0),
               _network("marketplace_bazaarly", "BEANIE-RED", 14)]

    results = _marketplace(bazaarly).push(changes)

    assert _statuses(results) == ["pushed"] * 3 and all(r.reference for r in results)  # the listing's updated_at
    assert [bazaarly.quantity(c.sku) for c in changes] == [3, 0, 14]
    assert [(r.method, r.path) for r in bazaarly.request_log][0] == ("PUT", "/v1/listings/TEE-BLK-M/quantity")


def test_marketplace_an_unknown_sku_fails_alone(bazaarly):
    changes = [_network("marketplace_bazaarly", "TEE-BLK-M", 3), _network("marketplace_bazaarly", "NOT-LISTED", 1),
               _network("marketplace_bazaarly", "CAP-NVY", 2)]

    results = _marketplace(bazaarly).push(changes)

    assert _statuses(results) == ["pushed", "failed", "pushed"]
    assert results[1].error == ("bazaarly answered 404 listing_not_found: "
                                "No listing with SKU 'NOT-LISTED' for this seller.")
    assert bazaarly.quantity("TEE-BLK-M") == 3 and bazaarly.quantity("CAP-NVY") == 2


def test_marketplace_5xx_and_429_are_retried_and_land(bazaarly):
    bazaarly.fail_next(1, status=500)
    bazaarly.fail_next(1, status=429, retry_after=0.01)

    [result] = _marketplace(bazaarly).push([_network("marketplace_bazaarly", "SOCK-3PK", 6)])

    assert result.status == "pushed" and bazaarly.quantity("SOCK-3PK") == 6
    assert [r.status for r in bazaarly.request_log] == [500, 429, 200]


def test_marketplace_an_outage_beyond_the_retries_raises(bazaarly):
    bazaarly.fail_next(5, status=503)

    with pytest.raises(MarketplaceAPIError) as raised:
        _marketplace(bazaarly, max_retries=2).push([_network("marketplace_bazaarly", "SOCK-3PK", 6)])

    assert raised.value.status == 503 and "after 2 retries" in str(raised.value)
    assert bazaarly.quantity("SOCK-3PK") is None


def test_marketplace_a_refused_token_stops_the_push_without_showing_it(bazaarly):
    wrong = "mkt_live_wrong_but_secret_5a4b3c"
    publisher = _marketplace(bazaarly, token=wrong)

    with pytest.raises(MarketplaceAPIError) as raised:
        publisher.push([_network("marketplace_bazaarly", "TEE-BLK-M", 3),
                        _network("marketplace_bazaarly", "CAP-NVY", 2)])

    assert raised.value.status == 401 and "rejected the API token" in str(raised.value)
    for text in (str(raised.value), raised.value.body, repr(publisher)):
        assert wrong not in text and MARKETPLACE_TOKEN not in text
    assert len(bazaarly.request_log) == 1 and bazaarly.quantity("TEE-BLK-M") is None  # stopped at the first


# ---- what they share ------------------------------------------------------------------------------

def test_every_publisher_is_an_ats_publisher(shop, seller_central, bazaarly):
    for publisher in (_shopify(shop), _amazon(seller_central), _marketplace(bazaarly)):
        assert isinstance(publisher, AtsPublisher)
        assert publisher.push([]) == []


@pytest.mark.parametrize("quantity", [-1, 2.0, True, "3"])
def test_an_ats_change_is_a_whole_number_of_zero_or_more(quantity):
    with pytest.raises(ValueError):
        AtsChange("amazon", "TEE-BLK-M", None, quantity)
