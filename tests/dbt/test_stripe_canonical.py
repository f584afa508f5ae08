"""Stripe's canonical payment events (int_stripe__payments) against the sandbox's ground truth.

The sandbox retailer serves everything (every channel, pulled and dropped through Dagster as the demo
does) into a DuckDB warehouse; dbt builds `+int_stripe__payments` with its tests (the unit test of the
event rules and the singular invariants in dbt_project/tests/stripe/). Then:

- per business date, the count and gross sum of the events equal world.canonical["payments"] for
  provider "stripe", exactly (the Stripe simulation tallies them as it creates the objects);
- the events follow the contract: its columns in its order, fees from the balance transactions,
  disputes counted once though listed both in their dispute and by payout, payouts negative;
- the same raw data loaded into PostgreSQL builds the very same rows.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2
import pytest

from connectors.landing_zone import LandingZone
from connectors.raw_load import load_landed_files
from connectors.sandbox.simulator import SandboxConfig
from connectors.warehouse import connect
from tests.sandbox_raw import load_sandbox_raw, run_dbt

# Seed 6 over six days: three disputes (one of them already paid out, so its withdrawal is listed
# both in the dispute and under its payout), refunds, and four payouts arriving in the window.
CONFIG = SandboxConfig(seed=6, days=6, orders_per_day=40, anomaly_rate=0.1)
# Every Stripe staging model (the quarantine too) and the payment events, with their tests.
SELECT = ["build", "--select", "+int_stripe__payments", "staging.stripe"]

CONTRACT_COLUMNS = [
    "payment_id", "provider", "provider_reference", "channel_id", "order_id", "event_type", "tender_type",
    "gross_amount", "fee_amount", "net_amount", "currency", "occurred_at", "business_date", "correlation_id",
]
PAYMENTS = f"select {', '.join(CONTRACT_COLUMNS)} from intermediate.int_stripe__payments order by payment_id"
BY_DAY = ("select provider, business_date, count(*), sum(gross_amount) from intermediate.int_stripe__payments "
          "group by provider, business_date")


def _land_replays(world, landing: LandingZone) -> list[Path]:
    """Extracts an earlier pull made (older versions, fetched before the real ones) and a charge that
    fails validation: staging must keep the latest versions, the loader quarantine the bad one."""
    stripe = world.channels["stripe"]
    earlier = datetime(2026, 11, 1, tzinfo=timezone.utc)
    first_day = CONFIG.start_date.isoformat()
    unrefunded = [{**c, "amount_refunded": 0, "refunded": False, "disputed": False} for c in stripe.charges]
    scheduled = [{**p, "status": "in_transit"} for p in stripe.payouts if p["status"] == "paid"]
    bad = {**stripe.charges[0], "id": "ch_bad", "amount": "12.00"}  # Stripe sends integers, never text
    return [
        landing.land("stripe", "charges", first_day, unrefunded, extracted_at=earlier, page=99),
        landing.land("stripe", "payouts", first_day, scheduled, extracted_at=earlier, page=99),
        landing.land("stripe", "charges", first_day, [bad], extracted_at=earlier, page=98),
    ]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    world, duckdb_file = load_sandbox_raw(CONFIG, tmp_path_factory.mktemp("raw"))
    replays = _land_replays(world, LandingZone(duckdb_file.parent / "landing"))
    with connect(str(duckdb_file)) as warehouse:
        report = load_landed_files(warehouse, replays, source="stripe")
    assert report.quarantined == 1
    run_dbt(SELECT, duckdb_file, tmp_path_factory.mktemp("dbt_duckdb"))
    return world, duckdb_file


def _duckdb(duckdb_file: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        return con.execute(sql).fetchall()


def _truth(world) -> dict[tuple[str, date], tuple[int, Decimal]]:
    return {(key.split("|")[0], date.fromisoformat(key.split("|")[1])): (cell["count"], cell["amount"])
            for key, cell in world.world.canonical.get("payments", {}).items() if key.startswith("stripe|")}


def _by_day(rows: list[tuple]) -> dict[tuple[str, date], tuple[int, Decimal]]:
    return {(provider, day): (count, Decimal(total)) for provider, day, count, total in rows}


def test_payment_events_per_business_date_equal_the_ground_truth(sandbox):
    world, duckdb_file = sandbox
    truth = _truth(world)
    assert len(truth) >= 5 and sum(count for count, _ in truth.values()) > 50
    assert _by_day(_duckdb(duckdb_file, BY_DAY)) == truth


def test_events_follow_the_contract(sandbox):
    world, duckdb_file = sandbox
    stripe = world.channels["stripe"]
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        columns = [row[0] for row in con.execute(
            "select column_name from information_schema.columns where table_schema = 'intermediate' "
            "and table_name = 'int_stripe__payments' order by ordinal_position").fetchall()]
        rows = con.execute(PAYMENTS).fetchall()
    assert columns == CONTRACT_COLUMNS
    events = {row[0]: dict(zip(CONTRACT_COLUMNS, row)) for row in rows}
    kinds = {e["event_type"] for e in events.values()}
    assert {"capture", "refund", "chargeback", "payout"} <= kinds

    paid_out = {t["id"]: t for t in stripe.balance_transactions}
    pulled_payouts = {p["id"] for p in stripe.payouts if p["status"] == "paid"}
    for charge in stripe.charges:
        event = events[charge["id"]]
        assert (event["event_type"], event["provider_reference"], event["channel_id"]) == (
            "capture", charge["id"], "shopify_web")
        assert event["order_id"] == charge["metadata"]["order_id"]
        assert event["correlation_id"] == f"shopify_web:order:{charge['metadata']['order_id']}"
        assert event["gross_amount"] == Decimal(charge["amount_captured"]) / 100
        txn = paid_out[charge["balance_transaction"]]
        # the fee is known once the payout that lists the charge's balance transaction was pulled
        expected_fee = Decimal(txn["fee"]) / 100 if stripe.payout_of[txn["id"]] in pulled_payouts else 0
        assert event["fee_amount"] == expected_fee
        assert event["net_amount"] == event["gross_amount"] - event["fee_amount"]
    for refund in stripe.refunds:
        event = events[refund["id"]]
        assert (event["event_type"], event["gross_amount"]) == ("refund", -Decimal(refund["amount"]) / 100)
        assert event["order_id"] == refund["metadata"]["order_id"]
    chargebacks = [e for e in events.values() if e["event_type"] == "chargeback"]
    assert len(chargebacks) == len(stripe.disputes) == 3
    for dispute in stripe.disputes:
        (txn,) = dispute["balance_transactions"]
        event = events[txn["id"]]
        assert event["provider_reference"] == dispute["id"]
        assert (event["gross_amount"], event["fee_amount"]) == (-Decimal(dispute["amount"]) / 100, Decimal("15"))
    assert any(txn["id"] in paid_out and stripe.payout_of[txn["id"]] in pulled_payouts
               for d in stripe.disputes for txn in d["balance_transactions"])  # listed twice, counted once
    payouts = {e["payment_id"]: e for e in events.values() if e["event_type"] == "payout"}
    assert set(payouts) == pulled_payouts
    for payout in stripe.payouts:
        if payout["id"] in payouts:
            event = payouts[payout["id"]]
            assert (event["gross_amount"], event["net_amount"]) == (-Decimal(payout["amount"]) / 100,) * 2
            assert (event["channel_id"], event["order_id"]) == (None, None)
            assert event["correlation_id"] == f"stripe:payment:{payout['id']}"
    assert all(e["provider"] == "stripe" and e["currency"] == "USD" for e in events.values())


def test_staging_keeps_the_latest_versions_and_quarantines_the_bad_record(sandbox):
    world, duckdb_file = sandbox
    stripe = world.channels["stripe"]
    charges = dict(_duckdb(duckdb_file, "select charge_id, amount_refunded from staging.stg_stripe__charges"))
    assert charges == {c["id"]: Decimal(c["amount_refunded"]) / 100 for c in stripe.charges}
    statuses = _duckdb(duckdb_file, "select distinct payout_status from staging.stg_stripe__payouts")
    assert statuses == [("paid",)]
    assert _duckdb(duckdb_file, "select record_id from staging.stg_stripe__quarantine") == [("ch_bad",)]
    raw_counts = dict(_duckdb(duckdb_file, "select 'charges', count(*) from raw_stripe.charges union all "
                                           "select 'payouts', count(*) from raw_stripe.payouts"))
    records = world.world.records["stripe"]
    assert raw_counts["charges"] > records["charges"] and raw_counts["payouts"] > records["payouts"]


def _normalised(rows: list[tuple]) -> list[tuple]:
    def cell(value):
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc)
        if isinstance(value, Decimal):
            return value.normalize()
        return value
    return [tuple(cell(v) for v in row) for row in rows]


def test_postgres_builds_the_same_events(sandbox, postgres_database, tmp_path):
    world, duckdb_file = sandbox
    landing = LandingZone(duckdb_file.parent / "landing")
    files = landing.files("stripe")
    assert files
    with connect(postgres_database) as warehouse:
        report = load_landed_files(warehouse, files, source="stripe")
    assert report.files_loaded == len(files)
    run_dbt(SELECT, None, tmp_path / "dbt_postgres", target="postgres")
    with psycopg2.connect(postgres_database) as pg, pg.cursor() as cur:
        cur.execute(PAYMENTS)
        pg_rows = cur.fetchall()
        cur.execute(BY_DAY)
        pg_by_day = cur.fetchall()
    assert _by_day(pg_by_day) == _truth(world)
    assert _normalised(pg_rows) == _normalised(_duckdb(duckdb_file, PAYMENTS))
