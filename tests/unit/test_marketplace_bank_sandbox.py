"""Unit: the sandbox's regional marketplace (Bazaarly) and bank simulations, read back by the parsers.

No vendor fixtures exist for either source (see tests/unit/test_marketplace_settlement_file.py and
tests/unit/test_bank_statements.py): the files rendered here are checked by our own parsers, and
their numbers against the world's ledgers.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from connectors.bank import raw_tables as bank_raw
from connectors.marketplace.raw_tables import source_module
from connectors.sandbox.channels import bank, marketplace
from connectors.sandbox.world import Deposit, World

START = date(2026, 11, 2)  # a Monday


def run(tmp_path, *, seed=3, days=3, malformed_rate=0.0, extra_deposits=()):
    world = World(seed=seed, start_date=START, days=days, malformed_rate=malformed_rate)
    market = marketplace.simulate(world)
    world.deposits.extend(extra_deposits)
    statements = bank.simulate(world)
    files = marketplace.drop_files(market, tmp_path) + bank.drop_files(statements, tmp_path)
    return world, market, statements, files


def test_the_same_seed_renders_the_same_files_and_another_seed_does_not(tmp_path):
    _, _, _, first = run(tmp_path / "a")
    _, _, _, again = run(tmp_path / "b")
    _, _, _, other = run(tmp_path / "c", seed=4)
    assert [p.name for p in first] == [p.name for p in again]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]
    assert {p.parent.name for p in first} == {"marketplace_bazaarly", "bank_statements"}


def test_each_days_payout_row_is_its_net_and_reaches_the_bank_the_next_day(tmp_path):
    world, market, _, files = run(tmp_path)
    module = source_module("bazaarly")
    settlement_files = [p for p in files if p.parent.name == "marketplace_bazaarly"]
    assert len(settlement_files) == 3
    deposits = {d.payout_id: d for d in world.deposits if d.provider == "marketplace_bazaarly"}
    for path, settlement in zip(settlement_files, market.settlements):
        report = module.parse_file(path)
        assert report.quarantined == []
        (payout,) = [r for r in report.rows if r.get("line_type") == "payout"]
        net = sum(r["amount"] for r in report.rows if r["line_type"] != "payout")
        assert payout["amount"] == net == settlement.net > 0
        assert Counter(r["line_type"] for r in report.rows)["sale"] >= 8
        deposit = deposits[payout["settlement_id"]]
        assert (deposit.amount, deposit.value_date) == (net, settlement.business_date + timedelta(days=1))
        assert deposit.bank_reference == f"BAZAARLY INC SETTLEMENT {settlement.settlement_id}"
    orders = [o for o in world.orders if o.channel == "marketplace_bazaarly"]
    sold = sum(line.quantity for o in orders for line in o.lines)
    shipped = -sum(m.quantity for m in world.stock_movements if m.kind == "ship" and m.location == "WH-NJ")
    assert 24 <= len(orders) <= 36 and sold == shipped
    assert world.records["marketplace_bazaarly"] == {
        "settlement_lines": sum(len(s.rows) for s in market.settlements), "_quarantine": 0}


def test_malformed_rows_are_counted_as_the_quarantines_ground_truth(tmp_path):
    world, _, _, files = run(tmp_path, malformed_rate=0.1)
    module = source_module("bazaarly")
    parsed = [module.parse_file(p) for p in files if p.parent.name == "marketplace_bazaarly"]
    truth = world.records["marketplace_bazaarly"]
    assert truth["_quarantine"] > 0
    assert sum(len(r.quarantined) for r in parsed) == truth["_quarantine"]
    assert sum(len(r.rows) for r in parsed) == truth["settlement_lines"]
    bank_parsed = [bank_raw.parse_file(p) for p in files if p.parent.name == "bank_statements"]
    assert sum(len(r.quarantined) for r in bank_parsed) == world.records["bank"]["_quarantine"] > 0
    assert sum(len(r.rows) for r in bank_parsed) == world.records["bank"]["statement_lines"]
    # a quarantined entry still moved the bank's balance: its statement is flagged, the others tie out
    for report in bank_parsed:
        assert report.ties_out == (report.quarantined == [])


def test_statement_credits_are_the_deposits_booked_in_the_window(tmp_path):
    extra = [
        Deposit("stripe", "po_1", Decimal("1520.33"), "USD", date(2026, 11, 7), "STRIPE TRANSFER po_1"),  # a Saturday
        Deposit("adyen", "4711", Decimal("98.10"), "USD", date(2026, 11, 3), "ADYEN N.V. 4711 BATCH 12"),
        Deposit("amazon", "AMZ-9", Decimal("-44.50"), "USD", date(2026, 11, 4), "AMAZON.COM SERVICES AMZ-9"),
        Deposit("stripe", "po_2", Decimal("10.00"), "USD", date(2026, 11, 17), "STRIPE TRANSFER po_2"),  # after it
    ]
    world, _, statements, files = run(tmp_path, days=8, extra_deposits=extra)  # Mon 2 .. Mon 9 November
    rows = [row for p in files if p.parent.name == "bank_statements" for row in bank_raw.parse_file(p).rows]
    on_statement = {row["customer_reference"]: row for row in rows if row["transaction_code"] in ("165", "455")
                    and not row["description"].startswith("ADP")}
    in_window = [d for d in world.deposits if d.value_date <= date(2026, 11, 9)]
    assert {d.payout_id for d in in_window} == set(on_statement)
    for deposit in in_window:
        row = on_statement[deposit.payout_id]
        assert (row["amount"], row["value_date"], row["description"]) == (
            deposit.amount, deposit.value_date, deposit.bank_reference)
        expected_account = "483101935" if deposit.provider in ("amazon", "marketplace_bazaarly") else "483101927"
        assert row["account_id"] == expected_account
    assert on_statement["po_1"]["booking_date"] == date(2026, 11, 9)  # Saturday's value date, booked Monday
    assert on_statement["AMZ-9"]["credit_debit"] == "DBIT"
    assert {d.payout_id for d in statements.pending_deposits} == {"po_2", "BZ-S-20261109"}

    # balances carry over day to day, and the Friday sweep is a debit on one account and a credit on the other
    by_account: dict[str, list] = {}
    for statement in statements.statements:
        by_account.setdefault(statement.account.account_id, []).append(statement)
    for days in by_account.values():
        assert [s.day for s in days] == [date(2026, 11, d) for d in (2, 3, 4, 5, 6, 9)]
        assert all(later.opening == earlier.closing for earlier, later in zip(days, days[1:]))
    sweeps = [row for row in rows if row["customer_reference"] == "SWEEP20261106"]
    assert sorted((row["account_id"], row["credit_debit"]) for row in sweeps) == [
        ("483101927", "CRDT"), ("483101935", "DBIT")]
    assert sum(row["amount"] for row in sweeps) == 0 and sweeps[0]["amount"] != 0
    assert world.records["bank"]["statement_lines"] == len(rows)
    assert len({(row["account_id"], row["entry_reference"]) for row in rows}) == len(rows)
