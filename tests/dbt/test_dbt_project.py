"""The dbt project, built for real on DuckDB and on PostgreSQL from the same raw data.

One sandbox world is landed and loaded into both warehouses (with stale order versions, a payout
re-extracted with an older status and a record that fails validation, so deduplication and the
quarantine are exercised), `dbt build` runs on each, and then:

- the canonical and finance marts are identical on the two warehouses: row counts, money sums
  to the last decimal, and every row;
- both reconcile exactly as the sandbox's ground truth (matches, exceptions, settlement journals);
- an inconsistent payout comes out as an unbalanced posting batch, never plugged, while dbt build
  itself still passes (the blocking gate lives in Dagster).
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2
import pytest

from connectors.landing_zone import LandingZone
from connectors.raw_load import load_landed_files
from connectors.sandbox.simulator import SandboxConfig, simulate
from connectors.warehouse import connect
from orchestration.reconciliation_summary import differences_from_truth

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

# Seed 9 has every case the marts must get right: order+amount matches, amount mismatches,
# refunds without an order, captures never paid out, and payout adjustments.
CONFIG = SandboxConfig(seed=2, start_date=date(2026, 11, 2), days=3, orders_per_day=25, anomaly_rate=0.15)
WORLD = simulate(CONFIG)
TRUTH = WORLD.ground_truth

# mart -> (key column, money columns)
MARTS: dict[str, tuple[str, list[str]]] = {
    "orders": ("order_id", ["gross_sales", "discount_total", "shipping_total", "tax_total", "order_total",
                            "refunded_total"]),
    "order_lines": ("order_line_id", ["unit_price", "gross_amount", "discount_amount", "tax_amount", "net_amount"]),
    "payments": ("payment_id", ["gross_amount", "fee_amount", "net_amount"]),
    "settlement_lines": ("settlement_line_id", ["gross_amount", "fee_amount", "net_amount"]),
    "settlement_matches": ("match_id", ["settlement_amount", "payment_amount", "variance"]),
    "reconciliation_exceptions": ("exception_id", ["amount"]),
    "posting_batches": ("batch_id", ["total_debit", "total_credit"]),
    "journal_lines": ("journal_line_id", ["debit_amount", "credit_amount"]),
    "journal_line_sources": ("journal_line_source_id", ["amount"]),
}


# ---- raw data -----------------------------------------------------------------------------------

def _stale_order_version(order: dict) -> dict:
    """The order as an earlier pull saw it: before its refund, with a line it no longer has."""
    stale = copy.deepcopy(order)
    stale["updated_at"] = order["created_at"]
    stale["financial_status"] = "paid"
    stale["refunds"] = []
    extra = copy.deepcopy(order["line_items"][0])
    extra["id"] = 99_000_000_000 + order["id"] % 1_000_000
    stale["line_items"].append(extra)
    return stale


def _land(landing: LandingZone) -> list[Path]:
    store = WORLD.store
    fetched = datetime(2026, 11, 6, 6, 0, tzinfo=timezone.utc)
    refunded = [o for o in store.orders if o["refunds"]][:3]
    bad_order = copy.deepcopy(store.orders[0])
    bad_order["id"] = 1
    bad_order["total_price"] = "twelve dollars"
    in_transit = [{**p, "status": "in_transit"} for p in store.payouts]
    return [
        landing.land("shopify", "orders", "2026-11-02", store.orders + [bad_order], extracted_at=fetched),
        # Older versions fetched LATER (a replayed page): the version, not the fetch time, decides.
        landing.land("shopify", "orders", "2026-11-02", [_stale_order_version(o) for o in refunded],
                     extracted_at=fetched + timedelta(hours=1), page=1),
        landing.land("shopify", "transactions", "2026-11-02",
                     [t for ts in store.transactions.values() for t in ts], extracted_at=fetched),
        # A payout seen in transit first, then paid: the latest fetch wins.
        landing.land("shopify", "payouts", "2026-11-02", in_transit, extracted_at=fetched - timedelta(days=1)),
        landing.land("shopify", "payouts", "2026-11-02", store.payouts, extracted_at=fetched),
        landing.land("shopify", "balance_transactions", "2026-11-02", store.balance_transactions,
                     extracted_at=fetched),
    ]


def _load(target: str, files: list[Path]) -> None:
    with connect(target) as warehouse:
        report = load_landed_files(warehouse, files)
    assert report.quarantined == 1


# ---- dbt ----------------------------------------------------------------------------------------

def dbt_build(target: str, work: Path, env: dict[str, str]) -> dict[str, dict]:
    """`dbt build` in a subprocess (dbt-duckdb keeps its file open for the life of the process that
    ran it); returns run_results by node id, failing the test on any error or failed test."""
    work.mkdir(parents=True, exist_ok=True)
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt) if dbt.exists() else "dbt", "build",
               "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target", target,
               "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
               "--vars", json.dumps({"payout_delay_days": 1})]
    run = subprocess.run(command, env={**os.environ, **env}, cwd=work, capture_output=True, text=True)
    results_file = work / "target" / "run_results.json"
    if not results_file.exists():
        pytest.fail(f"dbt build on {target} did not run:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}")
    results = {r["unique_id"]: r for r in json.loads(results_file.read_text())["results"]}
    failed = [f"{node}: {r['status']}: {r['message']}" for node, r in results.items()
              if r["status"] in ("error", "fail", "runtime error")]
    assert run.returncode == 0 and not failed, "\n".join(failed) or run.stdout[-4000:]
    return results


@pytest.fixture(scope="module")
def warehouses(postgres_server, tmp_path_factory):
    """Both warehouses loaded from the same landing files and built; yields how to reach each."""
    work = tmp_path_factory.mktemp("dbt")
    files = _land(LandingZone(work / "landing"))
    duckdb_path = work / "warehouse.duckdb"
    pg_name = f"omnirecon_dbt_{uuid.uuid4().hex[:10]}"
    pg = {"host": postgres_server["host"], "port": postgres_server["port"], "user": postgres_server["user"]}
    admin = psycopg2.connect(**pg, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"create database {pg_name}")
    try:
        pg_dsn = f"postgresql://{pg['user']}@{pg['host']}:{pg['port']}/{pg_name}"
        _load(str(duckdb_path), files)
        _load(pg_dsn, files)
        results = {
            "duckdb": dbt_build("duckdb", work / "duckdb", {"OMNIRECON_DUCKDB_PATH": str(duckdb_path)}),
            "postgres": dbt_build("postgres", work / "postgres", {
                "OMNIRECON_PG_HOST": pg["host"], "OMNIRECON_PG_PORT": str(pg["port"]), "OMNIRECON_PG_USER": pg["user"],
                "OMNIRECON_PG_PASSWORD": "", "OMNIRECON_PG_DBNAME": pg_name, "OMNIRECON_PG_SCHEMA": "public"}),
        }
        yield {"work": work, "duckdb": str(duckdb_path), "postgres": pg_dsn, "results": results}
    finally:
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {pg_name} with (force)")
        admin.close()


def _query(target: str, sql: str) -> list[tuple]:
    if target.startswith("postgresql://"):
        with psycopg2.connect(target) as conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    with duckdb.connect(target, read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _plain(value):
    """A cell in a form both drivers agree on: exact decimals, UTC instants, ISO dates."""
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _mart_figures(target: str, mart: str) -> dict:
    key, money = MARTS[mart]
    sums = ", ".join(f"sum({c})" for c in money)
    count, *totals = _query(target, f"select count(*), {sums} from marts.{mart}")[0]
    return {"rows": count, **{c: Decimal(t or 0).normalize() for c, t in zip(money, totals)}}


def _mart_rows(target: str, mart: str) -> list[tuple]:
    key, _ = MARTS[mart]
    return [tuple(_plain(v) for v in row) for row in _query(target, f"select * from marts.{mart} order by {key}")]


# ---- tests --------------------------------------------------------------------------------------

def test_dbt_build_runs_every_model_and_test_on_both_warehouses(warehouses):
    for target, results in warehouses["results"].items():
        assert {node.split(".")[0] for node in results} == {"model", "seed", "test", "unit_test"}, target
        unit_tests = [node for node in results if node.startswith("unit_test.omnirecon.settlement_matches.")]
        assert unit_tests and all(results[node]["status"] == "pass" for node in unit_tests), target
        assert sum(node.startswith("model.") for node in results) == sum(node.startswith("model.") for node in
                                                                           warehouses["results"]["duckdb"])


@pytest.mark.parametrize("mart", sorted(MARTS))
def test_marts_are_identical_on_duckdb_and_postgres(warehouses, mart):
    duck, pg = warehouses["duckdb"], warehouses["postgres"]
    figures = _mart_figures(duck, mart)
    assert figures["rows"] > 0, f"{mart} is empty: the comparison would prove nothing"
    assert figures == _mart_figures(pg, mart)
    assert _mart_rows(duck, mart) == _mart_rows(pg, mart)


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_marts_reconcile_exactly_as_the_sandbox_truth(warehouses, target):
    # The sandbox must have something to find, or this test proves nothing.
    assert any(m["match_rule"] == "order_reference_amount" for m in TRUTH["matches"])
    assert set(TRUTH["exceptions_by_reason"]) == {"amount_mismatch", "captured_not_settled", "refund_without_order"}
    with connect(warehouses[target]) as warehouse:
        assert differences_from_truth(warehouse, TRUTH) == []
        balanced = warehouse.fetchall("select count(*) from marts.posting_batches where is_balanced")[0][0]
    assert balanced == TRUTH["sources"]["shopify"]["payouts"]


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_staging_keeps_the_latest_version_and_no_email(warehouses, target):
    db = warehouses[target]
    assert _query(db, "select count(*), count(distinct order_id) from marts.orders")[0] == (len(WORLD.store.orders),) * 2
    # The stale versions' extra lines belong to superseded order versions.
    assert _query(db, "select count(*) from marts.order_lines where order_line_id like '99%'")[0][0] == 0
    assert _query(db, "select count(*) from marts.order_lines")[0][0] == sum(len(o["line_items"]) for o in WORLD.store.orders)
    statuses = {s for (s,) in _query(db, "select distinct payout_status from staging.stg_shopify__payouts")}
    assert statuses == {"paid"}
    assert _query(db, "select count(*) from staging.stg_shopify__quarantine")[0][0] == 1
    columns = _query(db, "select table_schema, table_name, column_name from information_schema.columns "
                         "where table_schema in ('staging', 'intermediate', 'marts') and lower(column_name) like '%email%'")
    assert columns == []
    emails = {o["email"].strip().lower() for o in WORLD.store.orders}
    keys = {k for (k,) in _query(db, "select distinct customer_key from marts.orders")}
    assert keys == {hashlib.md5(e.encode()).hexdigest() for e in emails}


def test_an_inconsistent_payout_posts_an_unbalanced_batch_never_a_plugged_one(warehouses):
    work = warehouses["work"] / "inconsistent"
    work.mkdir()
    path = work / "warehouse.duckdb"
    shutil.copy(warehouses["duckdb"], path)
    before = dict(_query(str(path), "select payout_id, batch_id from marts.posting_batches"))
    payout = WORLD.store.payouts[0]
    stated = Decimal(payout["amount"]) + Decimal("1.00")
    with duckdb.connect(str(path)) as conn:
        conn.execute("update raw_shopify.payouts set amount = ? where id = ?", [str(stated), payout["id"]])

    results = dbt_build("duckdb", work, {"OMNIRECON_DUCKDB_PATH": str(path)})

    tie_out = [r["status"] for node, r in results.items() if node.endswith(".assert_payout_ties_out_to_its_lines")]
    assert tie_out == ["warn"]
    rows = _query(str(path), "select payout_id, batch_id, is_balanced, total_debit - total_credit from marts.posting_batches")
    assert {p: b for p, b, _, _ in rows} == before  # same ids: a rebuild never re-keys a batch
    state = {p: (ok, diff) for p, _, ok, diff in rows}
    assert state.pop(str(payout["id"])) == (False, Decimal("1.00"))
    assert all(ok for ok, _ in state.values())
    bank = _query(str(path), f"select debit_amount from marts.journal_lines where batch_id = '{before[str(payout['id'])]}' "
                             "and posting_role = 'bank'")
    assert bank == [(stated,)]
