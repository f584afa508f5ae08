"""The SALES journals' ground truth: every order's sale and tender split, and every refund, per channel batch.

Sandbox-level tests recompute what a journal must hold from the raw records the channels serve (Shopify
orders and transactions, Amazon orders and settlement rows, marketplace settlement rows, Square tickets,
payments and refunds, Stripe charges and refunds), not from the ledger the truth is built from; hand-built
worlds pin the rules one at a time.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.sandbox.sales_journals import sales_journal_truth
from connectors.sandbox.simulator import SandboxConfig, simulate
from connectors.sandbox.world import BookedOrder, World

# seed 3 has what the tests look for: cancelled Amazon orders, Stripe refunds, web orders refunded in a store,
# marketplace refunds of known and unknown orders, Amazon refunds, tips
CONFIG = SandboxConfig(seed=3, days=3, orders_per_day=12, anomaly_rate=0.1)
NEW_YORK = ZoneInfo("America/New_York")
DAY1, DAY2, DAY3 = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)


@pytest.fixture(scope="module")
def sandbox():
    return simulate(CONFIG)


@pytest.fixture(scope="module")
def journals(sandbox):
    return {(j["channel_id"], j["location_id"], j["business_date"]): j["accounts"]
            for j in sandbox.ground_truth["sales_journals"]}


def _amount(journals: dict, channel: str, location: str, day: date, account: str) -> Decimal:
    return Decimal(journals.get((channel, location, day.isoformat()), {}).get(account, "0"))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _square(minor: dict | None) -> Decimal:
    return Decimal((minor or {}).get("amount", 0)) / 100


# ---- hand-built worlds: one rule at a time ----------------------------------------------------------

def _world() -> World:
    return World(seed=1, start_date=DAY1, days=3)


def _order(channel: str, order_id: str, location: str, day: date, gross: str, tax: str = "0",
           discount: str = "0", shipping: str = "0", tip: str = "0", voided: bool = False) -> BookedOrder:
    return BookedOrder(channel, order_id, location, day, "USD", Decimal(gross), Decimal(discount), Decimal(shipping),
                       Decimal(tax), Decimal(tip), voided)


def test_a_store_sale_splits_by_tender_and_its_tip_goes_to_2160():
    world = _world()
    # 100.00 goods - 10.00 discount + 8.00 tax = 98.00, paid 20.00 gift card, 30.00 cash, 48.00 card + 5.00 tip
    world.book_order(_order("pos", "SQ1", "ST-NYC", DAY1, "100.00", tax="8.00", discount="10.00", tip="5.00"))
    world.book_payment("gift_card", "pos", "SQ1", "sale", Decimal("20.00"), DAY1)
    world.book_payment("store_cash", "pos", "SQ1", "sale", Decimal("30.00"), DAY1)
    world.book_payment("adyen", "pos", "SQ1", "sale", Decimal("53.00"), DAY1)
    assert sales_journal_truth(world) == [{
        "legal_entity_id": "US01", "channel_id": "pos", "location_id": "ST-NYC", "business_date": "2026-11-02",
        "currency": "USD",
        "accounts": {"1050": "30.00", "1170": "53.00", "2150": "20.00", "2160": "-5.00", "2200": "-8.00",
                     "4000": "-100.00", "4200": "10.00"}}]


def test_what_no_payment_event_accounts_for_clears_through_the_channels_own_provider():
    world = _world()
    # an Amazon order not shipped yet (no sale in any settlement) and a web order paid in part through Stripe
    world.book_order(_order("amazon", "111-1", "WH-NJ", DAY1, "50.00", tax="4.44", shipping="5.99"))
    world.book_order(_order("shopify_web", "51", "WH-NJ", DAY1, "40.00", tax="3.55"))
    world.book_payment("stripe", "shopify_web", "51", "capture", Decimal("40.00"), DAY1)
    world.book_payment("stripe", "shopify_web", "51", "authorization", Decimal("43.55"), DAY1)  # moves no money
    truth = {j["channel_id"]: j["accounts"] for j in sales_journal_truth(world)}
    assert truth["amazon"] == {"1180": "60.43", "2200": "-4.44", "4000": "-50.00", "4100": "-5.99"}
    assert truth["shopify_web"] == {"1150": "3.55", "1160": "40.00", "2200": "-3.55", "4000": "-40.00"}


def test_a_voided_order_books_nothing_not_even_its_refunds():
    world = _world()
    world.book_order(_order("amazon", "111-2", "WH-NJ", DAY1, "29.00", tax="2.57", voided=True))
    world.book_payment("amazon", "amazon", "111-2", "refund", Decimal("-31.57"), DAY2)
    assert sales_journal_truth(world) == []


def test_a_refund_books_on_its_own_date_in_the_original_orders_batch():
    world = _world()
    world.book_order(_order("shopify_web", "52", "WH-NJ", DAY1, "60.00", tax="5.33"))
    world.book_payment("shopify_payments", "shopify_web", "52", "capture", Decimal("65.33"), DAY1)
    # returned in the Chicago store the next day, cash back; the rest refunded online on day 3
    world.book_payment("store_cash", "shopify_web", "52", "refund", Decimal("-32.66"), DAY2)
    world.book_payment("shopify_payments", "shopify_web", "52", "refund", Decimal("-32.67"), DAY3)
    # a refund of an order the marts do not know books nothing (refund_without_order)
    world.book_payment("shopify_payments", "shopify_web", "49", "refund", Decimal("-10.00"), DAY2)
    truth = [(j["channel_id"], j["location_id"], j["business_date"], j["accounts"]) for j in sales_journal_truth(world)]
    assert truth == [
        ("shopify_web", "WH-NJ", "2026-11-02", {"1150": "65.33", "2200": "-5.33", "4000": "-60.00"}),
        ("shopify_web", "WH-NJ", "2026-11-03", {"1050": "-32.66", "4300": "32.66"}),
        ("shopify_web", "WH-NJ", "2026-11-04", {"1150": "-32.67", "4300": "32.67"}),
    ]


def test_a_batch_whose_postings_cancel_out_is_no_journal():
    world = _world()
    world.book_order(_order("marketplace_bazaarly", "BZ1", "WH-NJ", DAY1, "0.00"))
    world.book_payment("marketplace_bazaarly", "marketplace_bazaarly", "BZ1", "refund", Decimal("0.00"), DAY2)
    assert sales_journal_truth(world) == []


# ---- the sandbox: the truth against what the channels serve ------------------------------------------

def test_every_journal_balances_and_has_one_entry_per_batch(sandbox):
    truth = sandbox.ground_truth["sales_journals"]
    assert truth
    for journal in truth:
        assert sum(Decimal(amount) for amount in journal["accounts"].values()) == 0
        assert all(Decimal(amount) != 0 for amount in journal["accounts"].values())
        assert journal["legal_entity_id"] == sandbox.world.location(journal["location_id"]).legal_entity_id
        assert journal["currency"] == "USD"
    keys = [(j["business_date"], j["channel_id"], j["location_id"]) for j in truth]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert {j["channel_id"] for j in truth} == {"shopify_web", "amazon", "marketplace_bazaarly", "pos"}


def test_revenue_is_the_gross_sales_of_the_orders_the_canonical_truth_counts(sandbox, journals):
    world = sandbox.world
    # the ledger holds exactly the orders the canonical orders truth counts, at the same totals
    booked: dict[str, dict] = defaultdict(lambda: {"count": 0, "amount": Decimal("0")})
    for order in world.sales_orders:
        booked[f"{order.channel}|{order.business_date.isoformat()}"]["count"] += 1
        booked[f"{order.channel}|{order.business_date.isoformat()}"]["amount"] += order.order_total
    assert dict(booked) == world.canonical["orders"]

    # gross sales per batch, from the raw records (a cancelled Amazon order excluded)
    gross: dict[tuple, Decimal] = defaultdict(Decimal)
    for order in sandbox.store.orders:
        day = _instant(order["created_at"]).astimezone(NEW_YORK).date()
        gross[("shopify_web", "WH-NJ", day)] += sum(Decimal(li["price"]) * li["quantity"] for li in order["line_items"])
    amazon = sandbox.channels["amazon"]
    cancelled = [o for o in amazon.orders if o["OrderStatus"] == "Canceled"]
    assert cancelled, "the config must have a cancelled Amazon order"
    for order in amazon.orders:
        if order["OrderStatus"] != "Canceled":
            day = _instant(order["PurchaseDate"]).astimezone(NEW_YORK).date()
            gross[("amazon", "WH-NJ", day)] += sum(Decimal(i["ItemPrice"]["Amount"])
                                                  for i in amazon.order_items[order["AmazonOrderId"]])
    for settlement in sandbox.channels["marketplace"].settlements:
        for row in settlement.rows:
            if row.line_type == "sale" and not row.malformed:
                gross[("marketplace_bazaarly", "WH-NJ", row.posted_date)] += row.amount
    pos = sandbox.channels["pos"]
    store_of = {square_id: code for code, square_id in pos.location_ids.items()}
    for order in pos.orders:
        if order.get("line_items"):
            store = store_of[order["location_id"]]
            day = _instant(order["created_at"]).astimezone(ZoneInfo(world.location(store).time_zone)).date()
            gross[("pos", store, day)] += sum(_square(li["base_price_money"]) * int(li["quantity"])
                                             for li in order["line_items"])
    revenue = {(channel, location, date.fromisoformat(day)): -Decimal(accounts["4000"])
               for (channel, location, day), accounts in journals.items() if "4000" in accounts}
    assert revenue == {key: amount for key, amount in gross.items() if amount}


def test_booked_payment_events_are_those_the_canonical_payments_truth_counts(sandbox):
    """Providers whose every event belongs to an order: the ledger and the canonical truth agree exactly."""
    world = sandbox.world
    booked: dict[str, dict] = defaultdict(lambda: {"count": 0, "amount": Decimal("0")})
    for event in world.order_payments:
        if event.provider in ("shopify_payments", "adyen", "store_cash", "gift_card"):
            booked[f"{event.provider}|{event.business_date.isoformat()}"]["count"] += 1
            booked[f"{event.provider}|{event.business_date.isoformat()}"]["amount"] += event.gross_amount
    canonical = {key: cell for key, cell in world.canonical["payments"].items()
                 if key.split("|")[0] in ("shopify_payments", "adyen", "store_cash", "gift_card")}
    assert dict(booked) == canonical


def _store_postings(sandbox) -> dict[tuple, Decimal]:
    """(channel, location, date, account) -> what a store's tenders and refunds post, from Square's records."""
    world, pos = sandbox.world, sandbox.channels["pos"]
    store_of = {square_id: code for code, square_id in pos.location_ids.items()}
    tender_account = {"EXTERNAL": "1170", "CASH": "1050", "CARD": "2150"}
    payments = {p["id"]: p for p in pos.payments}
    orders = {o["id"]: o for o in pos.orders}
    postings: dict[tuple, Decimal] = defaultdict(Decimal)

    def local_day(record: dict) -> date:
        zone = ZoneInfo(world.location(store_of[record["location_id"]]).time_zone)
        return _instant(record["created_at"]).astimezone(zone).date()

    for payment in pos.payments:
        key = ("pos", store_of[payment["location_id"]], local_day(payment))
        postings[(*key, tender_account[payment["source_type"]])] += _square(payment["total_money"])
        postings[(*key, "2160")] -= _square(payment.get("tip_money"))
    for refund in pos.refunds:
        if "payment_id" in refund:  # a store sale taken back: its store's batch
            sale = payments[refund["payment_id"]]
            key = ("pos", store_of[sale["location_id"]])
        else:  # a web order returned in store: the web order's batch
            assert orders[refund["order_id"]]["metadata"]["returned_channel"] == "shopify_web"
            key = ("shopify_web", "WH-NJ")
        account = tender_account[refund["destination_type"]]
        postings[(*key, local_day(refund), account)] -= _square(refund["amount_money"])
    return postings


def test_store_tenders_debit_their_clearing_and_tips_land_on_2160(sandbox, journals):
    """Card (Adyen) 1170 with its tips, cash 1050, gift card 2150; refunds back the way the money came."""
    postings = _store_postings(sandbox)
    assert any(account == "2160" and amount for (*_, account), amount in postings.items()), "no tip in the config"
    assert any(account == "2150" and amount > 0 for (*_, account), amount in postings.items())
    assert any(account == "1050" and amount > 0 for (*_, account), amount in postings.items())
    for (channel, location, day, account), amount in postings.items():
        if channel == "pos":
            assert _amount(journals, channel, location, day, account) == amount, (location, day, account)
    # a tip is in its card tender's clearing, not in the order's total: tips = 1170 + 1050 + 2150 - order totals
    pos_orders = [o for o in sandbox.world.sales_orders if o.channel == "pos"]
    for location, day in {(o.location, o.business_date) for o in pos_orders}:
        tips = -postings[("pos", location, day, "2160")]
        totals = sum(o.order_total for o in pos_orders if (o.location, o.business_date) == (location, day))
        tendered = sum(postings[("pos", location, day, account)] for account in ("1170", "1050", "2150"))
        refunded = _amount(journals, "pos", location, day, "4300")
        assert tendered + refunded == totals + tips


def test_web_sales_clear_through_the_gateway_that_took_the_money(sandbox, journals):
    """Shopify Payments 1150 from Shopify's transactions; Stripe-gateway orders 1160 from Stripe's own charges
    and refunds; refunds in a store through the store's tender, all in the web batch."""
    expected: dict[tuple, Decimal] = defaultdict(Decimal)
    for transactions in sandbox.store.transactions.values():
        for txn in transactions:
            if txn["gateway"] == "shopify_payments" and txn["kind"] in ("capture", "refund"):
                day = _instant(txn["processed_at"]).astimezone(NEW_YORK).date()
                sign = -1 if txn["kind"] == "refund" else 1
                expected[(day, "1150")] += sign * Decimal(txn["amount"])
                if txn["kind"] == "refund":
                    expected[(day, "4300")] += Decimal(txn["amount"])
    stripe = sandbox.channels["stripe"]
    assert stripe.charges, "the config must have a web order paid through Stripe"
    for charge in stripe.charges:
        expected[(datetime.fromtimestamp(charge["created"], NEW_YORK).date(), "1160")] += \
            Decimal(charge["amount_captured"]) / 100
    for refund in stripe.refunds:
        day = datetime.fromtimestamp(refund["created"], NEW_YORK).date()
        expected[(day, "1160")] -= Decimal(refund["amount"]) / 100
        expected[(day, "4300")] += Decimal(refund["amount"]) / 100
    in_store = {key: amount for key, amount in _store_postings(sandbox).items() if key[0] == "shopify_web"}
    assert in_store, "the config must have a web order refunded in a store"
    for (_, _, day, account), amount in in_store.items():
        expected[(day, account)] += amount
        expected[(day, "4300")] -= amount
    for (day, account), amount in expected.items():
        assert _amount(journals, "shopify_web", "WH-NJ", day, account) == amount, (day, account)
    # a Stripe-paid order never touches Shopify Payments' clearing, and nothing else clears a web batch
    web_accounts = {a for (c, _, _), accounts in journals.items() if c == "shopify_web" for a in accounts}
    assert web_accounts <= {"1150", "1160", "1170", "1050", "2150", "2200", "4000", "4100", "4200", "4300"}


def test_marketplace_refunds_book_on_their_date_unless_the_order_is_unknown(sandbox, journals):
    """Refund rows that parse, of an order whose sale rows parsed; a refund of an order sold before the window
    (or whose every sale row was quarantined) is the exception queue's, not a sale's."""
    settlements = sandbox.channels["marketplace"].settlements
    sold = {row.order_id for s in settlements for row in s.rows if row.line_type == "sale" and not row.malformed}
    refunded: dict[date, Decimal] = defaultdict(Decimal)
    unknown = 0
    for settlement in settlements:
        for row in settlement.rows:
            if row.line_type == "refund" and not row.malformed:
                if row.order_id in sold:
                    refunded[row.posted_date] -= row.amount
                else:
                    unknown += 1
    assert refunded and unknown, "the config must refund known and unknown marketplace orders"
    for day in (DAY1, DAY2, DAY3):
        assert _amount(journals, "marketplace_bazaarly", "WH-NJ", day, "4300") == refunded.get(day, Decimal("0"))


def test_amazon_clears_what_each_order_owes_and_refunds_what_the_reports_give_back(sandbox, journals):
    """Every Amazon sale clears through Amazon (1180 = the non-voided orders' totals; a refund credits it on
    the refund's date: its ItemPrice rows that parse, of an order the Orders API serves)."""
    amazon = sandbox.channels["amazon"]
    known = {o["AmazonOrderId"] for o in amazon.orders}
    expected: dict[date, Decimal] = defaultdict(Decimal)
    for order in amazon.orders:
        if order["OrderStatus"] != "Canceled":
            day = _instant(order["PurchaseDate"]).astimezone(NEW_YORK).date()
            items = amazon.order_items[order["AmazonOrderId"]]
            expected[day] += sum(Decimal(i[f]["Amount"]) for i in items for f in ("ItemPrice", "ItemTax",
                                                                                    "ShippingPrice"))
    refunds: dict[date, Decimal] = defaultdict(Decimal)
    for settlement in amazon.settlements:
        for line in settlement.lines:
            if (line.transaction_type == "Refund" and line.order_id in known and not line.malformed
                    and line.amount_type == "ItemPrice"):
                refunds[line.posted_at.astimezone(NEW_YORK).date()] -= line.amount
    assert refunds, "the config must have an Amazon refund"
    for day in (DAY1, DAY2, DAY3):
        assert _amount(journals, "amazon", "WH-NJ", day, "1180") == expected[day] - refunds[day]
        assert _amount(journals, "amazon", "WH-NJ", day, "4300") == refunds[day]
