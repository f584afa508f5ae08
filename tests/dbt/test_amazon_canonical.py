"""Amazon's canonical layer (int_amazon__*) against the sandbox's ground truth, on DuckDB and PostgreSQL.

Everything the sandbox serves (Orders API pages, settlement reports from the Reports API and from the
Seller Central inbox, with malformed rows quarantined) is loaded into raw tables; `dbt build` of
`+int_amazon__*` (staging, intermediate, their data tests, unit tests and tests/amazon/) must pass, and
per business date the orders, order lines, payment events and returns must count and add up exactly to
what the Amazon simulation tallied; every return must link to the order item it takes back. The same
landing zone replayed into PostgreSQL must give identical rows.
"""
from __future__ import annotations

import uuid
from datetime import date, timezone
from decimal import Decimal

import psycopg2
import pytest

from connectors.landing_zone import LandingZone
from connectors.raw_load import load_landed_files
from connectors.sandbox.simulator import SandboxConfig
from connectors.warehouse import connect
from tests.sandbox_raw import load_sandbox_raw, run_dbt

CHANNEL = "amazon"
SOURCE = "amazon"
# The API pulls land under amazon/, the Seller Central downloads from the inbox under amazon_settlements/.
LANDING_SOURCES = ("amazon", "amazon_settlements")
# Seed 6 over three days has Amazon and Bazaarly refunds, and malformed report rows in both channels.
CONFIG = SandboxConfig(seed=6, start_date=date(2026, 11, 2), days=3, orders_per_day=25, anomaly_rate=0.15,
                       malformed_rate=0.05)
MODELS = ["int_amazon__orders", "int_amazon__order_lines", "int_amazon__payments", "int_amazon__returns"]
# mart -> (model, group column, amount column)
MARTS = {
    "orders": ("int_amazon__orders", "channel_id", "order_total"),
    "order_lines": ("int_amazon__order_lines", "channel_id", "net_amount"),
    "payments": ("int_amazon__payments", "provider", "gross_amount"),
    "returns": ("int_amazon__returns", "channel_id", "refund_amount"),
}
GROUPS = {CHANNEL}
BUILD = ["build", "--select", *(f"+{model}" for model in MODELS), "path:models/staging/amazon",
         "path:models/intermediate/amazon", "path:tests/amazon"]


def _rows(execute, sql: str) -> list[tuple]:
    return [tuple(row) for row in execute(sql)]


def _duckdb_execute(path: str):
    import duckdb

    def execute(sql: str):
        with duckdb.connect(path, read_only=True) as con:
            return con.execute(sql).fetchall()
    return execute


def _postgres_execute(dsn: str):
    def execute(sql: str):
        with psycopg2.connect(dsn) as con, con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    return execute


def _tallies(execute, mart: str) -> dict[str, dict]:
    model, group, amount = MARTS[mart]
    relation = f"intermediate.{model}"
    if mart == "order_lines":  # a line is dated by its order
        relation = (f"(select l.*, o.business_date from intermediate.{model} as l "
                    f"inner join intermediate.{MARTS['orders'][0]} as o on l.order_id = o.order_id) as lines")
    rows = _rows(execute, f"select {group}, business_date, count(*), sum({amount}) from {relation} group by 1, 2")
    return {f"{g}|{d.isoformat()}": {"count": n, "amount": Decimal(a)} for g, d, n, a in rows}


def _truth(world, mart: str) -> dict[str, dict]:
    return {key: cell for key, cell in world.canonical.get(mart, {}).items() if key.split("|")[0] in GROUPS}


@pytest.fixture(scope="module")
def built(tmp_path_factory, postgres_server):
    work = tmp_path_factory.mktemp("amazon_canonical")
    sandbox, duckdb_file = load_sandbox_raw(CONFIG, work / "home")
    duckdb_results = run_dbt(BUILD, duckdb_file, work / "duckdb")

    name = f"omnirecon_amazon_{uuid.uuid4().hex[:10]}"
    server = {"host": postgres_server["host"], "port": postgres_server["port"], "user": postgres_server["user"]}
    admin = psycopg2.connect(**server, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"create database {name}")
    dsn = f"postgresql://{server['user']}@{server['host']}:{server['port']}/{name}"
    try:
        landing = LandingZone(work / "home" / "landing")
        with connect(dsn) as warehouse:
            for source in LANDING_SOURCES:
                load_landed_files(warehouse, landing.files(source, suffix=""), source=source)
        postgres_results = run_dbt(BUILD, None, work / "postgres", target="postgres", env={
            "OMNIRECON_PG_HOST": server["host"], "OMNIRECON_PG_PORT": str(server["port"]),
            "OMNIRECON_PG_USER": server["user"], "OMNIRECON_PG_PASSWORD": "", "OMNIRECON_PG_DBNAME": name,
            "OMNIRECON_PG_SCHEMA": "public"})
        yield {"world": sandbox.world, "duckdb": _duckdb_execute(str(duckdb_file)), "postgres": _postgres_execute(dsn),
               "results": {"duckdb": duckdb_results, "postgres": postgres_results}}
    finally:
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {name} with (force)")
        admin.close()


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_build_ran_models_data_tests_unit_tests_and_invariants(built, target):
    results = built["results"][target]
    for model in MODELS:
        assert f"model.omnirecon.{model}" in results
    tests = [node for node in results if node.startswith("test.omnirecon.")]
    assert any("tests/amazon" in node or node.startswith("test.omnirecon.assert_amazon") for node in tests), tests
    assert any(node.startswith("unit_test.omnirecon.int_amazon__") for node in results)


@pytest.mark.parametrize("mart", list(MARTS))
def test_marts_equal_the_ground_truth(built, mart):
    truth = _truth(built["world"], mart)
    assert truth, f"the Amazon simulation tallied nothing for {mart}"
    assert _tallies(built["duckdb"], mart) == truth


def test_returns_link_to_the_order_lines_they_take_back(built):
    links = {(l.return_line_id, l.original_channel, l.original_order_id, l.original_order_line_id)
             for l in built["world"].return_links if l.channel == CHANNEL}
    assert links
    rows = _rows(built["duckdb"], "select return_line_id, original_channel_id, original_order_id, "
                                  "original_order_line_id from intermediate.int_amazon__returns")
    assert set(rows) == links and len(rows) == len(links)
    lines = {r[0] for r in _rows(built["duckdb"], "select order_line_id from intermediate.int_amazon__order_lines")}
    assert {row[3] for row in rows} <= lines


def test_some_settlement_rows_are_quarantined_and_none_is_lost(built):
    # The world renders some rows malformed: they are in the quarantine, and the truth did not count them.
    quarantined = _rows(built["duckdb"], "select count(*) from staging.stg_amazon__quarantine "
                                         "where stream = 'settlement_report_rows'")[0][0]
    assert quarantined == built["world"].records[SOURCE]["_quarantine"] > 0


@pytest.mark.parametrize("model", MODELS)
def test_postgres_gives_the_same_rows(built, model):
    duck = sorted((_normal(r) for r in _rows(built["duckdb"], f"select * from intermediate.{model}")), key=repr)
    pg = sorted((_normal(r) for r in _rows(built["postgres"], f"select * from intermediate.{model}")), key=repr)
    assert len(duck) == len(pg) > 0
    assert duck == pg


def _normal(row: tuple) -> tuple:
    """DuckDB and psycopg2 return the same values in slightly different Python types (tz objects)."""
    out = []
    for value in row:
        if hasattr(value, "astimezone") and getattr(value, "tzinfo", None) is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        elif isinstance(value, Decimal):
            value = value.normalize()
        out.append(value)
    return tuple(out)
