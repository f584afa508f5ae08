"""Raw load of the sandbox's marketplace settlement files and bank statements into DuckDB.

The sources are registered here for the test only (monkeypatch), the way the lead wires them:
RAW_SOURCES["marketplace_<name>"] = source_module(name), RAW_SOURCES["bank_statements"] = bank raw_tables.
Files go through the inbox into the landing zone first, as the file-drop sensor takes them.
No vendor fixtures exist for these sources (see tests/unit/test_bank_statements.py).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors import raw_load
from connectors.bank import raw_tables as bank_raw
from connectors.inbox import Inbox
from connectors.landing_zone import LandingZone
from connectors.marketplace.raw_tables import source_module
from connectors.sandbox.channels import bank, marketplace
from connectors.sandbox.world import Deposit, World
from connectors.warehouse import connect
from tests.unit.test_marketplace_settlement_file import NORDMARKT


@pytest.fixture
def sources(monkeypatch):
    modules = {"marketplace_bazaarly": source_module("bazaarly"), "marketplace_nordmarkt": source_module("nordmarkt"),
               "bank_statements": bank_raw}
    for name, module in modules.items():
        monkeypatch.setitem(raw_load.RAW_SOURCES, name, module)
    return modules


def _psp_payouts(world):
    """Card payouts the other channels' simulations would add (not wired in this test)."""
    return [Deposit(provider, f"{provider[:2]}-{day:%m%d}", Decimal(f"{1000 + 37 * n + day.day}.{day.day:02d}"),
                    "USD", day, f"{provider.upper()} PAYOUT {provider[:2]}-{day:%m%d}")
            for day in world.business_days for n, provider in enumerate(("stripe", "shopify_payments", "adyen"))]


def _land(tmp_path, sources, world):
    market = marketplace.simulate(world)
    world.deposits.extend(_psp_payouts(world))
    statements = bank.simulate(world)
    inbox_root = tmp_path / "inbox"
    marketplace.drop_files(market, inbox_root)
    bank.drop_files(statements, inbox_root)
    inbox = Inbox(inbox_root, LandingZone(tmp_path / "landing"))
    landed = {}
    for source in ("marketplace_bazaarly", "bank_statements"):
        outcomes = [inbox.take(source, path, sources[source].parse_file, "2026-11-05") for path in inbox.pending(source)]
        assert {o.status for o in outcomes} == {"landed"}
        landed[source] = [o.landed for o in outcomes]
    return landed


def _distinct(wh, module, table, where="true"):
    key = module.RECORD_KEYS[table]
    return wh.fetchall(f"select count(distinct {key}), count(*) from {module.SCHEMA}.{table} where {where}")[0]


def test_sandbox_files_load_to_the_ground_truth_once_and_quarantine_bad_rows(tmp_path, sources):
    world = World(seed=3, start_date=date(2026, 11, 2), days=5, malformed_rate=0.1)
    landed = _land(tmp_path, sources, world)
    with connect(str(tmp_path / "w.duckdb")) as wh:
        market_load = raw_load.load_landed_files(wh, landed["marketplace_bazaarly"], source="marketplace_bazaarly")
        bank_load = raw_load.load_landed_files(wh, landed["bank_statements"], source="bank_statements")
        truth, bank_truth = world.records["marketplace_bazaarly"], world.records["bank"]
        assert _distinct(wh, sources["marketplace_bazaarly"], "settlement_lines", "marketplace = 'bazaarly'") == (
            truth["settlement_lines"], truth["settlement_lines"])
        assert _distinct(wh, bank_raw, "statement_lines") == (bank_truth["statement_lines"],) * 2
        assert market_load.quarantined == truth["_quarantine"] > 0
        assert bank_load.quarantined == bank_truth["_quarantine"] > 0
        assert wh.fetchall("select count(*) from raw_marketplace._quarantine")[0][0] == truth["_quarantine"]
        assert wh.fetchall("select count(*) from raw_bank._quarantine")[0][0] == bank_truth["_quarantine"]

        # a bad row's neighbours landed: every file has rows, including those with a quarantined line
        per_file = dict(wh.fetchall("select _landed_file, count(*) from raw_marketplace.settlement_lines group by 1"))
        assert len(per_file) == 5 and min(per_file.values()) > 0
        reasons = [r for (r,) in wh.fetchall("select reason from raw_marketplace._quarantine")]
        assert all(r.split(":")[0] in ("Transaction Date", "Amount", "Transaction Type") for r in reasons)

        # money is exact: the loaded payouts are the world's deposits to the cent
        payouts = dict(wh.fetchall("select settlement_id, amount from raw_marketplace.settlement_lines "
                                   "where line_type = 'payout'"))
        deposits = {d.payout_id: d.amount for d in world.deposits if d.provider == "marketplace_bazaarly"}
        assert payouts and all(Decimal(payouts[k]) == deposits[k] for k in payouts)
        # every payout value-dated in the window is on a statement to the cent, or its line is quarantined
        on_statements = dict(wh.fetchall("select customer_reference, amount from raw_bank.statement_lines "
                                         "where customer_reference is not null"))
        quarantined_payloads = [p for (p,) in wh.fetchall("select _payload from raw_bank._quarantine")]
        booked = [d for d in world.deposits if d.value_date <= date(2026, 11, 6)]
        assert len(booked) == 19
        for deposit in booked:
            if deposit.payout_id in on_statements:
                assert Decimal(on_statements[deposit.payout_id]) == deposit.amount
            else:
                assert sum(deposit.payout_id in p for p in quarantined_payloads) == 1
        assert not any(d.payout_id in on_statements for d in world.deposits if d.value_date > date(2026, 11, 6))
        formats = dict(wh.fetchall("select file_format, count(distinct statement_id) from raw_bank.statement_lines "
                                   "group by 1"))
        assert formats["camt053"] >= 4 and formats["csv"] >= 3

        counts = [wh.fetchall(f"select count(*) from {t}")[0][0] for t in (
            "raw_marketplace.settlement_lines", "raw_marketplace._quarantine", "raw_bank.statement_lines",
            "raw_bank._quarantine")]
        again = [raw_load.load_landed_files(wh, landed[s], source=s) for s in landed]
        assert [a.files_skipped for a in again] == [5, 10] and all(a.rows_inserted == {} for a in again)
        assert counts == [wh.fetchall(f"select count(*) from {t}")[0][0] for t in (
            "raw_marketplace.settlement_lines", "raw_marketplace._quarantine", "raw_bank.statement_lines",
            "raw_bank._quarantine")]


def test_a_second_marketplace_loads_into_the_same_table_apart(tmp_path, sources):
    path = tmp_path / "marketplace_nordmarkt" / "nordmarkt_20261105.csv"
    path.parent.mkdir()
    path.write_bytes(NORDMARKT)
    with connect(str(tmp_path / "w.duckdb")) as wh:
        raw_load.load_landed_files(wh, [path], source="marketplace_nordmarkt")
        rows = wh.fetchall("select line_type, amount, fee, currency from raw_marketplace.settlement_lines "
                           "where marketplace = 'nordmarkt' order by line_number")
        assert [r[0] for r in rows] == ["sale", "shipping_fee", "refund", "advertising_fee", "payout"]
        assert (rows[0][1], rows[0][2], rows[0][3]) == (Decimal("1490.0000"), Decimal("-178.8000"), "EUR")
        assert rows[3][1] == Decimal("-1234.5600")
