"""The sandbox retailer is deterministic, and its ground truth is consistent with what it serves."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal

from connectors.sandbox.simulator import SandboxConfig, simulate

CONFIG = SandboxConfig(seed=5, start_date=date(2026, 11, 2), days=4, orders_per_day=50, anomaly_rate=0.1)


def test_same_config_same_world_other_seed_other_world():
    first, second = simulate(CONFIG), simulate(CONFIG)
    assert json.dumps(first.store.orders) == json.dumps(second.store.orders)
    assert first.ground_truth == second.ground_truth
    other = simulate(SandboxConfig(seed=6, start_date=CONFIG.start_date, days=4, orders_per_day=50))
    assert other.store.orders[0]["total_price"] != first.store.orders[0]["total_price"] or \
        other.store.orders[0]["line_items"] != first.store.orders[0]["line_items"]


def test_orders_add_up_and_payouts_equal_their_lines():
    world = simulate(CONFIG)
    for order in world.store.orders:
        lines = sum(Decimal(li["price"]) * li["quantity"] for li in order["line_items"])
        shipping = sum(Decimal(s["price"]) for s in order["shipping_lines"])
        assert Decimal(order["subtotal_price"]) == lines - Decimal(order["total_discounts"])
        assert Decimal(order["total_price"]) == Decimal(order["subtotal_price"]) + shipping + Decimal(order["total_tax"])
    for payout in world.store.payouts:
        lines = [b for b in world.store.balance_transactions if b["payout_id"] == payout["id"] and b["type"] != "payout"]
        assert sum(Decimal(b["net"]) for b in lines) == Decimal(payout["amount"])
        assert all(Decimal(b["amount"]) - Decimal(b["fee"]) == Decimal(b["net"]) for b in lines)
    assert all(j["balanced"] for j in world.ground_truth["settlement_journals"])


def test_every_injected_anomaly_is_in_the_ground_truth():
    world = simulate(CONFIG)
    truth = world.ground_truth
    injected = truth["anomalies_injected"]
    assert all(count > 0 for count in injected.values()), injected
    shopify = [e for e in truth["exceptions"] if e["provider"] == "shopify_payments"]
    reasons = Counter(e["reason_code"] for e in shopify if not e["reason_code"].startswith("deposit_"))
    assert reasons["captured_not_settled"] == injected["capture_never_paid_out"]
    assert reasons["amount_mismatch"] == injected["payout_amount_differs"]
    assert reasons["refund_without_order"] == injected["refund_without_order"]
    # Every settled charge or refund line is matched or an exception; adjustments need no match.
    lines = [b for b in world.store.balance_transactions if b["type"] in ("charge", "refund")]
    matched = {m["settlement_line_id"] for m in truth["matches"] if m["provider"] == "shopify_payments"}
    orphans = {e["reference_id"] for e in shopify if e["reason_code"] == "refund_without_order"}
    assert {str(b["id"]) for b in lines} == matched | orphans


def test_no_anomalies_at_rate_zero():
    truth = simulate(SandboxConfig(seed=5, days=3, orders_per_day=30, anomaly_rate=0.0,
                                   malformed_rate=0.0)).ground_truth
    # Disputes are the customers' doing, not an anomaly of the data: Stripe's come at their own rate.
    assert {e["reason_code"] for e in truth["exceptions"]} <= {"chargeback"}
    assert sum(truth["anomalies_injected"].values()) == 0
