"""Unit: Amazon's part of the sandbox world (orders, settlements, reports, ledgers, ground truth)."""
from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connectors.amazon.client import SellingPartnerClient
from connectors.amazon.models import SETTLEMENT_REPORT_TYPE
from connectors.amazon.settlement_report import parse_settlement_report
from connectors.sandbox.amazon_api import FakeSellingPartnerAPI
from connectors.sandbox.channels import amazon
from connectors.sandbox.world import WAREHOUSE, World

START = date(2026, 11, 2)


def _world(seed: int = 3, **options) -> World:
    return World(seed=seed, start_date=START, days=3, **options)


@pytest.fixture(scope="module")
def simulated():
    world = _world()
    return world, amazon.simulate(world)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_ones():
    first, again, other = (amazon.simulate(_world(seed)) for seed in (3, 3, 4))
    assert first.orders == again.orders and first.order_items == again.order_items
    assert first.documents == again.documents and first.inbox_files == again.inbox_files
    assert first.documents != other.documents and first.orders != other.orders


def test_orders_per_day_is_a_parameter(simulated):
    world, sandbox = simulated
    assert len(sandbox.orders) == amazon.ORDERS_PER_DAY * world.days
    assert len(amazon.simulate(_world(), orders_per_day=5).orders) == 5 * 3


def test_every_settlement_ties_out_and_is_deposited(simulated):
    world, sandbox = simulated
    deposits = {d.payout_id: d for d in world.deposits if d.provider == "amazon"}
    assert len(sandbox.settlements) == world.days
    for settlement, report in zip(sandbox.settlements, sandbox.reports):
        parsed = parse_settlement_report(sandbox.documents[report["reportDocumentId"]])
        assert parsed.header.settlement_id == settlement.settlement_id
        assert parsed.header.total_amount == settlement.total
        malformed = [line.amount for line in settlement.lines if line.malformed]
        assert len(parsed.quarantined) == len(malformed)
        assert parsed.rows_total + sum(malformed, Decimal("0")) == parsed.header.total_amount
        clean = amazon.render_report(dataclasses.replace(
            settlement, lines=[dataclasses.replace(line, malformed=False) for line in settlement.lines]))
        assert parse_settlement_report(clean).ties_out
        deposit = deposits[settlement.settlement_id]
        assert (deposit.amount, deposit.currency) == (settlement.total, "USD")
        assert deposit.value_date == settlement.business_day + timedelta(days=2)  # period end + 1 day
        assert settlement.settlement_id in deposit.bank_reference


def test_settlement_lines_are_amazons_amount_types_and_tax_nets_to_zero(simulated):
    _, sandbox = simulated
    lines = [line for s in sandbox.settlements for line in s.lines]
    kinds = Counter((line.transaction_type, line.amount_type, line.amount_description) for line in lines)
    assert kinds[("Order", "ItemPrice", "Principal")] and kinds[("Refund", "ItemFees", "RefundCommission")]
    assert not any("FBA" in line.amount_description for line in lines)  # the seller fulfils (MFN)
    tax_descriptions = ("Tax", "MarketplaceFacilitatorTax-Principal")
    tax = sum(line.amount for line in lines if line.amount_description in tax_descriptions)
    assert tax == 0  # Amazon collects US sales tax as marketplace facilitator
    for settlement in sandbox.settlements:  # each row belongs to its day's period
        assert all(settlement.start_at <= line.posted_at < settlement.end_at for line in settlement.lines)


def test_buyers_are_masked_and_the_world_learns_orders_and_stock(simulated):
    world, sandbox = simulated
    emails = {o["BuyerInfo"]["BuyerEmail"] for o in sandbox.orders}
    assert all(e.endswith("@marketplace.amazon.com") for e in emails)
    assert not emails & {c.email for c in world.customers}
    placed = {o["AmazonOrderId"] for o in sandbox.orders if o["OrderStatus"] != "Canceled"}
    assert {o.order_id for o in world.orders if o.channel == "amazon"} == placed
    shipped = {o["AmazonOrderId"] for o in sandbox.orders if o["OrderStatus"] == "Shipped"}
    moves = [m for m in world.stock_movements if m.reference in placed]
    assert {m.reference for m in moves if m.kind == "ship"} == shipped
    assert all(m.location == WAREHOUSE.code for m in moves)
    shipped_units = sum(i["QuantityShipped"] for oid in shipped for i in sandbox.order_items[oid])
    assert -sum(m.quantity for m in moves if m.kind == "ship") == shipped_units
    window_end = datetime(2026, 11, 5, 5, 0, tzinfo=timezone.utc)
    assert all(o["LastUpdateDate"] < window_end.strftime("%Y-%m-%dT%H:%M:%SZ") for o in sandbox.orders)


def test_the_inbox_copy_is_the_last_report_byte_for_byte(simulated, tmp_path):
    _, sandbox = simulated
    [path] = amazon.drop_files(sandbox, tmp_path)
    assert path.parent == tmp_path / "amazon_settlements"
    assert path.read_bytes() == sandbox.report_document(sandbox.reports[-1]["reportId"])
    assert amazon.drop_files(sandbox, tmp_path) == [path]  # dropping again changes nothing


def test_ground_truth_counts_equal_what_the_fake_api_serves(simulated):
    world, sandbox = simulated
    with FakeSellingPartnerAPI(sandbox, "client", "secret", "Atzr|refresh", orders_page_size=9) as api:
        client = SellingPartnerClient("client", "secret", "Atzr|refresh", base_url=api.base_url,
                                      token_url=api.token_url, backoff_seconds=0.001)
        orders = [o for page in client.search_orders_pages(
            last_updated_after=datetime(2026, 11, 2, 5, tzinfo=timezone.utc)) for o in page.records]
        items = [i for o in orders for i in o["orderItems"]]
        rows = quarantined = 0
        for report in client.reports(report_types=[SETTLEMENT_REPORT_TYPE]):
            parsed = parse_settlement_report(
                client.download_report_document(client.get_report_document(report["reportDocumentId"])))
            rows, quarantined = rows + len(parsed.rows), quarantined + len(parsed.quarantined)
    served = {"orders": len({o["orderId"] for o in orders}),
              "order_items": len({i["orderItemId"] for i in items}),
              "settlement_report_rows": rows, "_quarantine": quarantined}
    assert served == world.records["amazon"]
    assert world.records["amazon"]["_quarantine"] > 0  # the default malformed rate shows in 3 days


def test_no_malformed_rows_when_the_rate_is_zero():
    world = _world(malformed_rate=0.0)
    sandbox = amazon.simulate(world)
    assert world.records["amazon"]["_quarantine"] == 0
    assert all(parse_settlement_report(doc).ties_out for doc in sandbox.documents.values())
