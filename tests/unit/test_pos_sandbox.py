"""The stores' sandbox: deterministic tickets whose tenders, refunds, stock, Z reports and counts agree."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.sandbox.channels import pos
from connectors.sandbox.square_api import FakeSquareAPI
from connectors.sandbox.world import CardPayment, ChannelOrder, SoldLine, World
from connectors.square.client import SquareClient
from connectors.square.z_report import parse_z_report

START = date(2026, 11, 2)


def _world(**options) -> World:
    return World(seed=3, start_date=START, days=3, **options)


def _dollars(money: dict) -> Decimal:
    assert money["currency"] == "USD"
    return Decimal(money["amount"]) / 100


def _web_orders(world: World, n: int = 40) -> None:
    """What the web shop simulation leaves in the world: orders a store can take back."""
    for k in range(n):
        at = datetime(2026, 11, 1, 14, tzinfo=timezone.utc) + timedelta(hours=k)
        world.orders.append(ChannelOrder("shopify_web", str(5_100_000_001 + k), f"#{1001 + k}", "WH-NJ", k + 1, at,
                                         "USD", [SoldLine(f"L{k}", "HOOD-GRY-M", 1, Decimal("68.50"), Decimal("6.85"),
                                                          Decimal("5.47"))]))


@pytest.fixture(scope="module")
def world_and_sandbox():
    world = _world()
    return world, pos.simulate(world)


def test_the_same_seed_gives_the_same_stores_and_another_seed_does_not():
    first_world, second_world = _world(), _world()
    first, second = pos.simulate(first_world), pos.simulate(second_world)
    assert (first.orders, first.payments, first.refunds) == (second.orders, second.payments, second.refunds)
    assert [z.lines for z in first.z_reports] == [z.lines for z in second.z_reports]
    assert first_world.records == second_world.records and first_world.card_payments == second_world.card_payments
    other = pos.simulate(World(seed=4, start_date=START, days=3))
    assert other.orders != first.orders


def test_other_channels_in_the_world_do_not_shift_the_stores():
    world = _world()
    world.card_payments.append(CardPayment("stripe", "ch_1", "#1001", "shopify_web", "1", "capture", Decimal("10"),
                                           "USD", datetime(2026, 11, 2, tzinfo=timezone.utc)))
    assert pos.simulate(world).orders == pos.simulate(_world()).orders


def test_tickets_are_rung_up_in_opening_hours_of_the_stores_own_business_days(world_and_sandbox):
    world, sandbox = world_and_sandbox
    zones = {sandbox.location_ids[s.code]: ZoneInfo(s.time_zone) for s in world.locations if s.kind == "store"}
    per_store_day = Counter()
    for order in sandbox.orders:
        local = datetime.fromisoformat(order["created_at"]).astimezone(zones[order["location_id"]])
        assert local.date() in world.business_days and time(10) <= local.time() < time(20)
        per_store_day[order["location_id"], local.date()] += 1
    assert set(per_store_day.values()) == {pos.TICKETS_PER_STORE_DAY} and len(per_store_day) == 3 * 3
    assert [loc["timezone"] for loc in sandbox.locations] == ["America/New_York", "America/Chicago",
                                                            "America/Los_Angeles"]


def test_tenders_sum_to_ticket_totals_and_payments_match_their_tenders(world_and_sandbox):
    _, sandbox = world_and_sandbox
    payments = {p["id"]: p for p in sandbox.payments}
    sales = [o for o in sandbox.orders if o.get("line_items")]
    assert len(sales) > 150
    for order in sales:
        lines = sum(_dollars(li["total_money"]) for li in order["line_items"])
        tips = sum((_dollars(t["tip_money"]) for t in order["tenders"] if "tip_money" in t), Decimal(0))
        assert sum(_dollars(t["amount_money"]) for t in order["tenders"]) == _dollars(order["total_money"]) \
            == lines + tips
        for li in order["line_items"]:
            assert _dollars(li["gross_sales_money"]) - _dollars(li["total_discount_money"]) \
                + _dollars(li["total_tax_money"]) == _dollars(li["total_money"])
        for tender in order["tenders"]:
            payment = payments[tender["payment_id"]]
            assert payment["order_id"] == order["id"] and payment["total_money"] == tender["amount_money"]
            tip = payment.get("tip_money", {"amount": 0})["amount"]
            assert payment["amount_money"]["amount"] + tip == payment["total_money"]["amount"]
    kinds = Counter(t["type"] for o in sales for t in o["tenders"])
    assert set(kinds) == {"THIRD_PARTY_CARD", "CASH", "SQUARE_GIFT_CARD"}
    assert any(len(o["tenders"]) == 2 for o in sales)
    assert any("tip_money" in t for o in sales for t in o["tenders"])


def test_card_tenders_are_adyen_captures_with_the_square_payment_as_merchant_reference(world_and_sandbox):
    world, sandbox = world_and_sandbox
    captures = {c.merchant_reference: c for c in world.card_payments if c.kind == "capture"}
    external = [p for p in sandbox.payments if p["source_type"] == "EXTERNAL"]
    assert external and len(captures) == len(external)
    for payment in external:
        capture = captures[payment["id"]]
        assert payment["external_details"] == {"type": "CARD", "source": "Adyen", "source_id": capture.psp_reference}
        assert (capture.psp, capture.channel, capture.order_id, capture.amount) == \
            ("adyen", "pos", payment["order_id"], _dollars(payment["total_money"]))


def test_store_returns_take_back_sold_lines_and_refund_them_the_way_they_were_paid(world_and_sandbox):
    world, sandbox = world_and_sandbox
    orders = {o["id"]: o for o in sandbox.orders}
    payments = {p["id"]: p for p in sandbox.payments}
    refunds = defaultdict(list)
    for refund in sandbox.refunds:
        refunds[refund["order_id"]].append(refund)
    returns = [o for o in sandbox.orders if o.get("returns")]
    assert len(returns) >= 10
    for order in returns:
        (ret,) = order["returns"]
        sold = orders[ret["source_order_id"]]
        assert sold["location_id"] == order["location_id"] and sold["closed_at"] < order["created_at"]
        sold_uids = {li["uid"] for li in sold["line_items"]}
        assert {li["source_line_item_uid"] for li in ret["return_line_items"]} <= sold_uids
        total = sum(_dollars(li["total_money"]) for li in ret["return_line_items"])
        assert _dollars(order["return_amounts"]["total_money"]) == total
        assert sum(_dollars(r["amount_money"]) for r in refunds[order["id"]]) == total
        for refund in refunds[order["id"]]:
            payment = payments[refund["payment_id"]]
            assert payment["order_id"] == sold["id"] and refund["id"] in payment["refund_ids"]
            assert refund["destination_type"] == {"EXTERNAL": "EXTERNAL", "CASH": "CASH", "CARD": "CARD"}[
                payment["source_type"]]
    adyen_refunds = [c for c in world.card_payments if c.kind == "refund"]
    card_refunds = [r for r in sandbox.refunds if r["destination_type"] == "EXTERNAL"]
    assert len(adyen_refunds) == len(card_refunds) > 0
    captured = {c.psp_reference for c in world.card_payments if c.kind == "capture"}
    assert {c.psp_reference for c in adyen_refunds} <= captured  # an Adyen refund of the capture


def test_web_orders_come_back_in_store_with_an_unlinked_refund():
    world = _world()
    _web_orders(world)
    sandbox = pos.simulate(world)
    web_returns = [o for o in sandbox.orders if o.get("metadata", {}).get("returned_channel") == "shopify_web"]
    assert len(web_returns) >= 5
    returned_ids = [o["metadata"]["returned_order_id"] for o in web_returns]
    assert len(set(returned_ids)) == len(returned_ids)  # an order comes back once
    names = {o.order_id: o.order_name for o in world.orders if o.channel == "shopify_web"}
    for order in web_returns:
        assert "source_order_id" not in order["returns"][0]
        assert order["metadata"]["returned_order_name"] == names[order["metadata"]["returned_order_id"]]
        (refund,) = [r for r in sandbox.refunds if r["order_id"] == order["id"]]
        assert refund["unlinked"] is True and "payment_id" not in refund
        assert refund["amount_money"]["amount"] == 68_50 - 6_85 + 5_47
    card = [r for r in sandbox.refunds if r.get("unlinked") and r["destination_type"] == "EXTERNAL"]
    adyen = {c.merchant_reference: c for c in world.card_payments if c.kind == "refund"}
    assert card and all(adyen[r["id"]].psp_reference == r["destination_details"]["external_details"]["source_id"]
                        for r in card)


def test_stock_and_channel_orders_follow_the_tickets(world_and_sandbox):
    world, sandbox = world_and_sandbox
    sold = sum(int(li["quantity"]) for o in sandbox.orders for li in o.get("line_items", []))
    returned = sum(int(li["quantity"]) for o in sandbox.orders for r in o.get("returns", [])
                   for li in r["return_line_items"])
    moves = Counter()
    for move in world.stock_movements:
        assert move.location in {"ST-NYC", "ST-CHI", "ST-SFO"}
        moves[move.kind] += move.quantity
    assert moves == {"ship": -sold, "return_receipt": returned}
    pos_orders = [o for o in world.orders if o.channel == "pos"]
    assert len(pos_orders) == sum(1 for o in sandbox.orders if o.get("line_items"))
    assert all(o.at.tzinfo is not None for o in pos_orders)


def test_z_reports_add_up_each_store_days_tickets(world_and_sandbox, tmp_path):
    world, sandbox = world_and_sandbox
    clean = [pos.ZReport(**{**z.__dict__, "malformed": set()}) for z in sandbox.z_reports]
    store_of = {v: k for k, v in sandbox.location_ids.items()}
    zones = {loc["id"]: ZoneInfo(loc["timezone"]) for loc in sandbox.locations}

    def store_day(record) -> tuple[str, date]:
        local = datetime.fromisoformat(record["created_at"]).astimezone(zones[record["location_id"]])
        return store_of[record["location_id"]], local.date()

    # independent sums, from what the payments and refunds APIs serve
    collected = defaultdict(Decimal)
    for payment in sandbox.payments:
        collected[store_day(payment)] += _dollars(payment["total_money"])
    for refund in sandbox.refunds:
        collected[store_day(refund)] -= _dollars(refund["amount_money"])
    gross = defaultdict(Decimal)
    for order in sandbox.orders:
        for li in order.get("line_items", []):
            gross[store_day(order)] += _dollars(li["gross_sales_money"])
    assert len(clean) == 9
    for z in clean:
        report = parse_z_report(pos.render_z_report(z).encode())
        assert report.quarantined == [] and len(report.rows) == 22
        key = (z.store_code, z.business_date)
        assert report.amount("Sales", "Total Collected") == collected[key]
        assert sum(r["amount"] for r in report.rows if r["section"] in ("Tenders", "Refunds")) == collected[key]
        assert report.amount("Sales", "Gross Sales") == gross[key]
        net = report.amount("Sales", "Gross Sales") + report.amount("Sales", "Discounts") \
            + report.amount("Sales", "Returns")
        assert report.amount("Sales", "Net Sales") == net
        assert report.amount("Cash Drawer", "Over/Short") == \
            report.amount("Cash Drawer", "Counted") - report.amount("Cash Drawer", "Expected")
        assert report.count("Counts", "Transactions") == pos.TICKETS_PER_STORE_DAY
        assert report.header.location_id == sandbox.location_ids[z.store_code]


def test_dropped_z_reports_render_malformed_rows_at_the_worlds_rate(tmp_path):
    world = _world(malformed_rate=0.2)
    sandbox = pos.simulate(world)
    paths = pos.drop_files(sandbox, tmp_path)
    assert [p.parent.name for p in paths] == ["pos_z_reports"] * 9
    parsed = [parse_z_report(p) for p in paths]
    quarantined = sum(len(r.quarantined) for r in parsed)
    assert quarantined == world.records["square"]["_quarantine"] > 10
    assert sum(len(r.rows) for r in parsed) == world.records["square"]["z_reports"] == 9 * 22 - quarantined


def test_the_fake_api_serves_exactly_what_the_ground_truth_counts(world_and_sandbox):
    world, sandbox = world_and_sandbox
    truth = world.records["square"]
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    end = datetime(2026, 11, 7, tzinfo=timezone.utc)
    with FakeSquareAPI(sandbox, "EAAAtoken") as api:
        client = SquareClient(api.base_url, "EAAAtoken")
        locations = client.list_locations()
        ids = [loc["id"] for loc in locations]
        orders = [o for page in client.search_orders(ids, start, end) for o in page.records]
        payments = [p for i in ids for page in client.list_payments(i, start, end) for p in page.records]
        refunds = [r for i in ids for page in client.list_refunds(i, start, end) for r in page.records]
    assert (len(locations), len(orders), len(payments), len(refunds)) == \
        (truth["locations"], truth["orders"], truth["payments"], truth["refunds"])
    assert sum(len(o.get("line_items", [])) for o in orders) == truth["order_line_items"]
    assert sum(len(o.get("tenders", [])) for o in orders) == truth["order_tenders"]
    assert sum(len(r["return_line_items"]) for o in orders for r in o.get("returns", [])) == truth["order_returns"]
    assert len({o["id"] for o in orders}) == len(orders)
