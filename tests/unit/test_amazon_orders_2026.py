"""Orders API 2026-01-01 orders into the raw columns Orders v0 filled: the same order, the same rows.

The sandbox keeps its orders in v0 form and its fake API renders them as 2026-01-01 does, so every
sandbox order can be loaded both ways and compared column by column.
"""
from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest

from connectors import raw_load
from connectors.amazon import raw_tables
from connectors.landing_zone import LandingZone
from connectors.sandbox.amazon_orders_2026 import INCLUDED_DATA, render_order
from connectors.sandbox.channels import amazon as amazon_channel
from connectors.sandbox.world import World
from connectors.warehouse import connect

ALL = set(INCLUDED_DATA)
# What 2026-01-01 spells its own way (staging reads both spellings) or does not serve.
RESPELLED = {"order_status", "fulfillment_channel", "ship_service_level"}
NOT_SERVED = {"order_type", "payment_method"}


@pytest.fixture(scope="module")
def sandbox():
    return amazon_channel.simulate(World(seed=3, start_date=date(2026, 11, 2), days=3))


def _both_ways(sandbox, order: dict, items: list[dict] | None = None):
    items = items if items is not None else sandbox.order_items[order["AmazonOrderId"]]
    v0 = {**raw_tables.flatten("orders", order),
          **raw_tables.flatten("order_items", {"AmazonOrderId": order["AmazonOrderId"], "OrderItems": items})}
    return v0, raw_tables.flatten("search_orders", render_order(order, items, ALL))


def test_every_sandbox_order_gives_the_rows_orders_v0_gave(sandbox):
    statuses = set()
    for order in sandbox.orders:
        v0, v2026 = _both_ways(sandbox, order)
        [old], [new] = v0["orders"], v2026["orders"]
        assert {k: v for k, v in new.items() if k not in RESPELLED | NOT_SERVED} == {
            k: v for k, v in old.items() if k not in RESPELLED | NOT_SERVED}
        assert new["fulfillment_channel"] == "MERCHANT" and old["fulfillment_channel"] == "MFN"
        statuses.add((old["order_status"], new["order_status"]))
        for old_item, new_item in zip(v0["order_items"], v2026["order_items"], strict=True):
            # v0 states a zero amount, 2026-01-01 leaves the breakdown out: both mean nothing charged.
            assert {k: (v or Decimal("0") if k in raw_tables._ITEM_MONEY else v) for k, v in new_item.items()
                    if not k.endswith("_currency")} == {
                k: (v or Decimal("0") if k in raw_tables._ITEM_MONEY else v) for k, v in old_item.items()
                if not k.endswith("_currency")}
    assert statuses == {("Shipped", "SHIPPED"), ("Canceled", "CANCELLED"), ("Unshipped", "UNSHIPPED")}


def test_a_discount_and_its_tax_land_as_sizes_whatever_sign_amazon_gives(sandbox):
    order = next(o for o in sandbox.orders if o["OrderTotal"])
    items = copy.deepcopy(sandbox.order_items[order["AmazonOrderId"]])
    items[0]["PromotionDiscount"]["Amount"] = "5.00"
    items[0]["PromotionDiscountTax"]["Amount"] = "0.44"
    items[0]["PromotionIds"] = ["PROMO-BF-2026"]
    rendered = render_order(order, items, ALL)["orderItems"][0]
    by_type = {b["type"]: b for b in rendered["proceeds"]["breakdowns"]}
    assert by_type["DISCOUNT"]["subtotal"]["amount"] == "-5.00"  # proceeds add up: a discount subtracts
    assert Decimal(rendered["proceeds"]["proceedsTotal"]["amount"]) == sum(
        Decimal(b["subtotal"]["amount"]) for b in by_type.values())
    _, v2026 = _both_ways(sandbox, order, items)
    row = v2026["order_items"][0]
    assert (row["promotion_discount"], row["promotion_discount_tax"]) == (Decimal("5.00"), Decimal("0.44"))
    assert row["item_tax"] == Decimal(items[0]["ItemTax"]["Amount"])  # the discount's tax is not the item's
    assert row["promotion_ids"] == "PROMO-BF-2026"


def test_a_bad_order_is_quarantined_with_its_reason_and_the_rest_of_its_page_loads(sandbox, tmp_path):
    orders = [render_order(o, sandbox.order_items[o["AmazonOrderId"]], ALL) for o in sandbox.orders[:20]]
    bad = copy.deepcopy(orders[3])
    bad["orderItems"][0]["proceeds"]["breakdowns"][0]["subtotal"]["amount"] = 68.5  # a float: digits may be lost
    page = [*orders[:3], bad, *orders[4:]]
    landed = LandingZone(tmp_path / "landing").land("amazon", "search_orders", "2026-11-02", page)
    with connect(str(tmp_path / "warehouse.duckdb")) as warehouse:
        report = raw_load.load_landed_files(warehouse, [landed], source="amazon")
        quarantined = warehouse.fetchall("select stream, record_id, reason from raw_amazon._quarantine")
        loaded = warehouse.fetchall("select count(*) from raw_amazon.orders")[0][0]
        items = warehouse.fetchall("select count(*) from raw_amazon.order_items")[0][0]
    assert report.quarantined == 1 and len(quarantined) == 1
    stream, record_id, reason = quarantined[0]
    assert (stream, record_id) == ("search_orders", bad["orderId"]) and "not a float" in reason
    assert loaded == 19 and items == sum(len(o["orderItems"]) for o in page) - len(bad["orderItems"])
