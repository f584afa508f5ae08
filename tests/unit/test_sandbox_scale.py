"""Peak-season scale: every channel's daily volume grows with channel_volume_scale, in today's mix, and the
ground truth of a scaled world is as consistent as that of a default one."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from connectors.sandbox.channels import amazon, marketplace, pos
from connectors.sandbox.simulator import (
    SandboxConfig,
    amazon_orders_per_day,
    daily_orders,
    marketplace_orders_per_day,
    simulate,
    store_tickets_per_day,
)
from connectors.sandbox.world import STORES

SCALE = 4.0
DAYS = 2
BASE = SandboxConfig(seed=7, days=DAYS, anomaly_rate=0.1)
SCALED = SandboxConfig(seed=7, days=DAYS, anomaly_rate=0.1, orders_per_day=round(BASE.orders_per_day * SCALE),
                       channel_volume_scale=SCALE)


def _orders_by_channel(sandbox) -> Counter:
    """Orders each channel's source serves over the window (a store's return ticket is a Square order too)."""
    channels = sandbox.channels
    return Counter({"shopify_web": len(channels["shopify_web"].store.orders), "amazon": len(channels["amazon"].orders),
                    "pos": len(channels["pos"].orders),
                    marketplace.CHANNEL: len({o.order_id for o in sandbox.world.orders
                                              if o.channel == marketplace.CHANNEL})})


@pytest.fixture(scope="module")
def base():
    return simulate(BASE)


@pytest.fixture(scope="module")
def scaled():
    return simulate(SCALED)


def test_at_scale_one_every_channel_keeps_its_own_default_volume():
    # the default path hands each channel exactly the volume it had before the scale existed
    config = SandboxConfig()
    assert config.channel_volume_scale == 1.0
    assert amazon_orders_per_day(config) == amazon.ORDERS_PER_DAY
    assert marketplace_orders_per_day(config) == marketplace.ORDERS_PER_DAY
    assert store_tickets_per_day(config) == pos.TICKETS_PER_STORE_DAY


def test_every_channel_grows_in_proportion(base, scaled):
    before, after = _orders_by_channel(base), _orders_by_channel(scaled)
    assert after["shopify_web"] == SCALED.orders_per_day * DAYS == round(before["shopify_web"] * SCALE)
    assert after["amazon"] == round(amazon.ORDERS_PER_DAY * SCALE) * DAYS == round(before["amazon"] * SCALE)
    tickets = round(pos.TICKETS_PER_STORE_DAY * SCALE)
    assert after["pos"] == tickets * len(STORES) * DAYS == round(before["pos"] * SCALE)
    # the marketplace draws each day's count from its range, scaled at both ends
    low, high = (round(end * SCALE) for end in marketplace.ORDERS_PER_DAY)
    assert low * DAYS <= after[marketplace.CHANNEL] <= high * DAYS
    assert marketplace.ORDERS_PER_DAY[0] * DAYS <= before[marketplace.CHANNEL] <= marketplace.ORDERS_PER_DAY[1] * DAYS


def test_store_sales_and_returns_keep_their_shares(base, scaled):
    def returns_share(sandbox) -> float:
        tickets = sandbox.channels["pos"].orders
        return sum(1 for t in tickets if t.get("returns")) / len(tickets)
    assert returns_share(scaled) == pytest.approx(pos.RETURN_SHARE, abs=0.03)
    assert returns_share(base) == pytest.approx(pos.RETURN_SHARE, abs=0.05)


@pytest.mark.parametrize("total", [145, 2_000, 100_000, 300_000, 1_000_000])
def test_orders_per_day_across_channels_keeps_todays_mix(total):
    config = SandboxConfig.for_orders_per_day(total, seed=3, days=2)
    assert (config.seed, config.days) == (3, 2)
    mix, default_mix = daily_orders(config), daily_orders(SandboxConfig())
    # each channel rounds on its own: the total is off by at most half an order per channel and store
    assert abs(sum(mix.values()) - total) <= 0.5 * (len(mix) + len(STORES))
    default_total = sum(default_mix.values())
    for channel, orders in mix.items():
        assert orders / total == pytest.approx(default_mix[channel] / default_total, abs=2 / total + 1e-9), channel


def test_todays_mix_is_what_a_default_world_sells():
    served = _orders_by_channel(simulate(SandboxConfig(seed=7, days=DAYS)))
    expected = daily_orders(SandboxConfig())
    for channel in ("shopify_web", "amazon", "pos"):
        assert served[channel] == expected[channel] * DAYS
    low, high = marketplace.ORDERS_PER_DAY
    assert low * DAYS <= served[marketplace.CHANNEL] <= high * DAYS


def test_a_negative_scale_or_total_is_refused():
    with pytest.raises(ValueError):
        SandboxConfig(channel_volume_scale=-1.0)
    with pytest.raises(ValueError):
        SandboxConfig.for_orders_per_day(0)


# ---- the scaled world's ground truth is self-consistent -----------------------------------------------

def test_scaled_world_is_deterministic(scaled):
    again = simulate(SCALED)
    assert again.ground_truth == scaled.ground_truth
    assert again.channels["pos"].orders == scaled.channels["pos"].orders


def test_sources_count_what_the_channels_serve(scaled):
    sources, channels = scaled.ground_truth["sources"], scaled.channels
    assert sources["shopify"]["orders"] == len(channels["shopify_web"].store.orders)
    assert sources["amazon"]["orders"] == len(channels["amazon"].orders)
    assert sources["square"]["orders"] == len(channels["pos"].orders)
    assert sources["square"]["payments"] == len(channels["pos"].payments)


def test_web_orders_add_up_and_payouts_equal_their_lines(scaled):
    store = scaled.store
    for order in store.orders:
        lines = sum(Decimal(li["price"]) * li["quantity"] for li in order["line_items"])
        shipping = sum(Decimal(s["price"]) for s in order["shipping_lines"])
        assert Decimal(order["subtotal_price"]) == lines - Decimal(order["total_discounts"])
        assert Decimal(order["total_price"]) == \
            Decimal(order["subtotal_price"]) + shipping + Decimal(order["total_tax"])
    by_payout: dict[int, Decimal] = {}
    for line in store.balance_transactions:
        if line["type"] != "payout":
            by_payout[line["payout_id"]] = by_payout.get(line["payout_id"], Decimal("0")) + Decimal(line["net"])
    assert store.payouts
    for payout in store.payouts:
        assert by_payout[payout["id"]] == Decimal(payout["amount"])
    assert all(j["balanced"] for j in scaled.ground_truth["settlement_journals"])


def test_settlement_journals_are_unbalanced_exactly_where_a_payout_total_mismatch_is_expected(scaled):
    journals = {(j["provider"], j["payout_id"]): j for j in scaled.ground_truth["settlement_journals_by_payout"]}
    assert journals
    for journal in journals.values():
        assert journal["balanced"] == (sum(Decimal(a) for a in journal["accounts"].values()) == 0)
    mismatched = {(e.provider, e.reference_id) for e in scaled.world.expected_exceptions
                  if e.reason_code == "payout_total_mismatch"}
    assert {key for key, journal in journals.items() if not journal["balanced"]} == mismatched


def test_sales_and_cogs_journals_balance(scaled):
    truth = scaled.ground_truth
    assert {j["channel_id"] for j in truth["sales_journals"]} == {"shopify_web", "amazon", marketplace.CHANNEL, "pos"}
    for journal in truth["sales_journals"]:
        assert sum(Decimal(amount) for amount in journal["accounts"].values()) == 0
    for journal in truth["cogs_journals"]:
        assert Decimal(journal["accounts"]["5000"]) == -Decimal(journal["accounts"]["1300"]) != 0


def test_every_settled_web_line_is_matched_or_an_exception(scaled):
    truth = scaled.ground_truth
    lines = {str(b["id"]) for b in scaled.store.balance_transactions if b["type"] in ("charge", "refund")}
    matched = {m["settlement_line_id"] for m in truth["matches"] if m["provider"] == "shopify_payments"}
    orphans = {e["reference_id"] for e in truth["exceptions"]
               if e["provider"] == "shopify_payments" and e["reason_code"] == "refund_without_order"}
    assert lines == matched | orphans


def test_stores_take_each_sale_back_at_most_once_and_only_an_hour_after_it(scaled):
    tickets = scaled.channels["pos"].orders
    sold_at = {t["id"]: datetime.fromisoformat(t["closed_at"]) for t in tickets if t.get("line_items")}
    web_at = {o.order_id: o.at for o in scaled.world.orders if o.channel == "shopify_web"}
    store_returns, web_returns = [], []
    for ticket in (t for t in tickets if t.get("returns")):
        returned_at = datetime.fromisoformat(ticket["created_at"])
        source = ticket["returns"][0].get("source_order_id")
        if source:
            store_returns.append(source)
            assert sold_at[source] < returned_at - timedelta(hours=1)
        else:
            web_order = ticket["metadata"]["returned_order_id"]
            web_returns.append(web_order)
            assert web_at[web_order] < returned_at - timedelta(hours=1)
    assert store_returns and web_returns
    assert len(set(store_returns)) == len(store_returns)
    assert len(set(web_returns)) == len(web_returns)
