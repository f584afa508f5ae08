"""The Stripe simulation: deterministic, fees exact in cents, payouts that net their transactions, deposits."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from connectors.sandbox.channels import stripe as stripe_sim
from connectors.sandbox.world import CardPayment
from tests.psp_card_payments import world_with


def _simulated(**options):
    world = world_with("stripe")
    return world, stripe_sim.simulate(world, **options)


def _payload(sandbox) -> str:
    return json.dumps([sandbox.charges, sandbox.refunds, sandbox.disputes, sandbox.payouts,
                       sandbox.balance_transactions, sandbox.payout_of], sort_keys=True)


def test_same_seed_same_account_and_another_seed_another():
    assert _payload(_simulated()[1]) == _payload(_simulated()[1])
    other = world_with("stripe", seed=4)
    assert _payload(stripe_sim.simulate(other)) != _payload(_simulated()[1])


def test_card_fee_is_2_9_percent_plus_30_cents_rounded_half_up_in_cents():
    assert stripe_sim.card_fee_cents(1000) == 59
    assert stripe_sim.card_fee_cents(1500) == 74  # 43.5 -> 44, + 30
    assert stripe_sim.card_fee_cents(1517) == 74  # 43.993 -> 44
    assert stripe_sim.card_fee_cents(1482) == 73  # 42.978 -> 43


def test_charges_carry_the_order_and_their_balance_transactions_the_fee():
    world, sandbox = _simulated()
    captures = [p for p in world.card_payments if p.kind == "capture"]
    by_id = {t["id"]: t for t in sandbox.balance_transactions}
    assert len(sandbox.charges) == len(captures)
    for payment in captures:
        charge = next(c for c in sandbox.charges if c["id"] == payment.psp_reference)
        assert charge["metadata"] == {"order_id": payment.order_id, "order_name": payment.merchant_reference}
        assert charge["amount"] == int(payment.amount * 100) and charge["captured"] and charge["currency"] == "usd"
        txn = by_id[charge["balance_transaction"]]
        assert (txn["type"], txn["source"], txn["amount"]) == ("charge", charge["id"], charge["amount"])
        # International cards cost more (the fee_mismatch anomaly); the rest pay the standard rate.
        rate = (stripe_sim.INTERNATIONAL_FEE_PERCENT_TENTHS if charge["id"] in sandbox.international_charges
                else stripe_sim.FEE_PERCENT_TENTHS)
        assert txn["fee"] == stripe_sim.card_fee_cents(charge["amount"], rate) == txn["fee_details"][0]["amount"]
        assert txn["net"] == txn["amount"] - txn["fee"]


def test_refunds_cost_no_fee_and_mark_their_charge():
    world, sandbox = _simulated()
    assert len(sandbox.refunds) == sum(1 for p in world.card_payments if p.kind == "refund") > 0
    by_id = {t["id"]: t for t in sandbox.balance_transactions}
    for refund in sandbox.refunds:
        charge = next(c for c in sandbox.charges if c["id"] == refund["charge"])
        txn = by_id[refund["balance_transaction"]]
        assert (txn["type"], txn["fee"]) == ("refund", 0)
        assert txn["amount"] == txn["net"] == -refund["amount"]
        assert charge["amount_refunded"] >= refund["amount"]
        assert charge["refunded"] == (charge["amount_refunded"] == charge["amount"])


def test_a_refund_of_an_unknown_charge_is_set_aside_not_invented():
    world = world_with("stripe")
    stray = CardPayment("stripe", "ch_unknown", "#9999", "shopify_web", "1", "refund", Decimal("5.00"), "USD",
                        datetime(2026, 11, 3, 15, tzinfo=timezone.utc))
    world.card_payments.append(stray)
    sandbox = stripe_sim.simulate(world)
    assert sandbox.refunds_without_charge == [stray]
    assert all(r["charge"] != "ch_unknown" for r in sandbox.refunds)


def test_disputes_withdraw_the_amount_and_the_15_dollar_fee():
    world, sandbox = _simulated(dispute_rate=0.5)
    assert sandbox.disputes
    for dispute in sandbox.disputes:
        charge = next(c for c in sandbox.charges if c["id"] == dispute["charge"])
        (txn,) = dispute["balance_transactions"]
        assert charge["disputed"] and charge["amount_refunded"] == 0 and dispute["amount"] == charge["amount"]
        assert (txn["type"], txn["reporting_category"], txn["source"]) == ("adjustment", "dispute", dispute["id"])
        assert (txn["amount"], txn["fee"], txn["net"]) == (-charge["amount"], 1500, -charge["amount"] - 1500)
        assert txn in sandbox.balance_transactions  # paid out like any other activity
        assert dispute["created"] < int(datetime(2026, 11, 5, 5, tzinfo=timezone.utc).timestamp())  # in the window


def test_every_payout_nets_its_balance_transactions_and_lists_its_own():
    world, sandbox = _simulated(dispute_rate=0.3)
    assert len(sandbox.payouts) >= 3
    listed = set(sandbox.payout_of)
    assert listed == {t["id"] for t in sandbox.balance_transactions}  # everything is paid out by some payout
    for payout in sandbox.payouts:
        txns = [t for t in sandbox.balance_transactions if sandbox.payout_of[t["id"]] == payout["id"]]
        own = [t for t in txns if t["type"] == "payout"]
        assert [t["id"] for t in own] == [payout["balance_transaction"]]
        assert own[0]["net"] == -payout["amount"]
        assert sum(t["net"] for t in txns if t["type"] != "payout") == payout["amount"] > 0


def test_payouts_arrive_two_days_after_their_activity_and_paid_ones_reach_the_bank():
    world, sandbox = _simulated()
    statuses = {}
    for payout in sandbox.payouts:
        arrival = datetime.fromtimestamp(payout["arrival_date"], timezone.utc)
        assert (arrival.hour, arrival.minute) == (0, 0)  # Stripe's arrival_date is a date at 00:00 UTC
        statuses[arrival.date()] = payout["status"]
        activity = {datetime.fromtimestamp(t["created"], stripe_sim.ZoneInfo("America/New_York")).date()
                    for t in sandbox.balance_transactions
                    if sandbox.payout_of[t["id"]] == payout["id"] and t["type"] != "payout"}
        assert max(activity) == arrival.date() - timedelta(days=2)
    assert statuses == {date(2026, 11, 4): "paid", date(2026, 11, 5): "in_transit", date(2026, 11, 6): "pending"}
    deposits = [d for d in world.deposits if d.provider == "stripe"]
    paid = [p for p in sandbox.payouts if p["status"] == "paid"]
    assert [(d.payout_id, d.amount, d.currency, d.value_date, d.bank_reference) for d in deposits] == [
        (p["id"], Decimal(p["amount"]) / 100, "USD", date(2026, 11, 4), f"STRIPE TRANSFER {p['id']}") for p in paid]


def test_ground_truth_counts_what_the_daily_pulls_of_the_window_land():
    world, sandbox = _simulated(dispute_rate=0.3)
    arriving = [p for p in sandbox.payouts if p["status"] == "paid"]  # only day 3 of 3 receives a payout
    truth = world.records["stripe"]
    assert truth == {
        "payouts": len(arriving),
        "balance_transactions": sum(1 for po in sandbox.payout_of.values() if po in {p["id"] for p in arriving}),
        "charges": len(sandbox.charges), "refunds": len(sandbox.refunds), "disputes": len(sandbox.disputes),
        "dispute_balance_transactions": len(sandbox.disputes),
    }
    assert truth["payouts"] == 1 and truth["charges"] == 36
