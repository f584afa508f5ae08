"""The stores' canonical layer (int_pos__*, Square POS with Adyen terminals) against the sandbox's truth,
on DuckDB and PostgreSQL.

Everything the sandbox serves (Square's Orders, Payments, Refunds and Locations APIs, the stores' Z
report files with malformed rows quarantined, Adyen's settlement detail reports) is loaded into raw
tables; `dbt build` of `+int_pos__*`, the Square and Adyen staging, their data tests, unit tests and
tests/pos/ (conservation, ticket totals, the Z report store-day check) must pass, and per business
date (the store's local date) the orders, order lines, payment events (providers adyen, store_cash,
gift_card) and returns must count and add up exactly to what the POS simulation tallied; every
returned line must link to the POS or web order line it takes back. The same landing zone replayed
into PostgreSQL must give identical rows.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.sandbox.simulator import SandboxConfig
from tests.sandbox_raw import load_sandbox_raw, plain_rows, postgres_replica, query, run_dbt

CHANNEL = "pos"
CONFIG = SandboxConfig(seed=2, start_date=date(2026, 11, 2), days=3, orders_per_day=25, anomaly_rate=0.15,
                       malformed_rate=0.05)
MODELS = ["int_pos__orders", "int_pos__order_lines", "int_pos__payments", "int_pos__returns"]
STAGING = ["stg_square__z_reports", "stg_square__quarantine", "stg_adyen__settlement_details",
           "stg_adyen__quarantine"]
# mart -> (model, group column, amount column, the groups this channel contributes)
MARTS = {
    "orders": ("int_pos__orders", "channel_id", "order_total", {CHANNEL}),
    "order_lines": ("int_pos__order_lines", "channel_id", "net_amount", {CHANNEL}),
    "payments": ("int_pos__payments", "provider", "gross_amount", {"adyen", "store_cash", "gift_card"}),
    "returns": ("int_pos__returns", "channel_id", "refund_amount", {CHANNEL}),
}
BUILD = ["build", "--select", *(f"+{model}" for model in MODELS), *STAGING, "path:tests/pos"]


def _rows(execute, sql: str) -> list[tuple]:
    return [tuple(row) for row in execute(sql)]


def _executor(target: str):
    return lambda sql: query(target, sql)


def _tallies(execute, mart: str) -> dict[str, dict]:
    model, group, amount, _ = MARTS[mart]
    relation = f"intermediate.{model}"
    if mart == "order_lines":  # a line has no date of its own: its order's business date
        relation = ("(select lines.*, orders.business_date from intermediate.int_pos__order_lines as lines "
                    "inner join intermediate.int_pos__orders as orders on lines.order_id = orders.order_id) as l")
    rows = _rows(execute, f"select {group}, business_date, count(*), sum({amount}) from {relation} group by 1, 2")
    return {f"{g}|{d.isoformat()}": {"count": n, "amount": Decimal(a)} for g, d, n, a in rows}


def _truth(world, mart: str) -> dict[str, dict]:
    groups = MARTS[mart][3]
    return {key: cell for key, cell in world.canonical.get(mart, {}).items() if key.split("|")[0] in groups}


@pytest.fixture(scope="module")
def built(tmp_path_factory, postgres_server):
    work = tmp_path_factory.mktemp("pos_canonical")
    sandbox, duckdb_file = load_sandbox_raw(CONFIG, work / "home")
    duckdb_results = run_dbt(BUILD, duckdb_file, work / "duckdb")
    with postgres_replica(postgres_server, work / "home", "pos") as (dsn, env):
        postgres_results = run_dbt(BUILD, None, work / "postgres", target="postgres", env=env)
        yield {"sandbox": sandbox, "world": sandbox.world, "duckdb": _executor(str(duckdb_file)),
               "postgres": _executor(dsn), "results": {"duckdb": duckdb_results, "postgres": postgres_results}}


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_build_ran_models_data_tests_unit_tests_and_invariants(built, target):
    results = built["results"][target]
    for model in [*MODELS, *STAGING]:
        assert f"model.omnirecon.{model}" in results
    tests = {node for node in results if node.startswith("test.omnirecon.")}
    for invariant in ("assert_pos_every_raw_record_reaches_canonical_or_quarantine",
                      "assert_pos_z_reports_equal_the_store_days_tickets",
                      "assert_pos_order_total_equals_its_components", "assert_pos_tenders_pay_each_ticket"):
        assert f"test.omnirecon.{invariant}" in tests, invariant
    assert any(node.startswith("unit_test.omnirecon.int_pos__") for node in results)


@pytest.mark.parametrize("mart", list(MARTS))
def test_marts_equal_the_ground_truth(built, mart):
    truth = _truth(built["world"], mart)
    assert truth, f"the POS simulation tallied nothing for {mart}"
    assert _tallies(built["duckdb"], mart) == truth


def test_payments_cover_every_tender_kind_and_refund(built):
    kinds = set(_rows(built["duckdb"], "select provider, tender_type, event_type from intermediate.int_pos__payments"))
    assert {("adyen", "card", "sale"), ("store_cash", "cash", "sale"), ("gift_card", "gift_card", "sale"),
            ("adyen", "card", "refund"), ("store_cash", "cash", "refund")} <= kinds


def test_card_events_carry_the_adyen_psp_reference_the_settlement_lines_use(built):
    world = built["world"]
    captures = {(c.psp_reference, c.amount) for c in world.card_payments if c.psp == "adyen" and c.kind == "capture"}
    sales = set(_rows(built["duckdb"], "select provider_reference, gross_amount from intermediate.int_pos__payments "
                                       "where provider = 'adyen' and event_type = 'sale'"))
    assert sales == captures
    # every settled Adyen line names the PSP reference of a POS card event
    unmatched = _rows(built["duckdb"], """
        select settlement_line_id from staging.stg_adyen__settlement_details
        where record_type in ('Settled', 'Refunded')
            and psp_reference not in (select provider_reference from intermediate.int_pos__payments
                                      where provider = 'adyen')""")
    assert unmatched == []


def test_returns_link_to_the_order_lines_they_take_back(built):
    links = {(l.return_line_id, l.original_channel, l.original_order_id, l.original_order_line_id)
             for l in built["world"].return_links if l.channel == CHANNEL}
    assert {link[1] for link in links} == {"pos", "shopify_web"}  # store sales and web orders come back
    rows = _rows(built["duckdb"], "select return_line_id, original_channel_id, original_order_id, "
                                  "original_order_line_id from intermediate.int_pos__returns")
    assert set(rows) == links and len(rows) == len(links)
    lines = {r[0] for r in _rows(built["duckdb"], "select order_line_id from intermediate.int_pos__order_lines")}
    assert {row[3] for row in rows if row[1] == "pos"} <= lines
    # a web order returned in store names a line the web shop really sold on that order
    web_lines = set(_rows(built["duckdb"], "select cast(order_id as varchar), cast(id as varchar) "
                                           "from raw_shopify.order_line_items"))
    assert {(row[2], row[3]) for row in rows if row[1] == "shopify_web"} <= web_lines


def test_every_z_report_is_checked_and_malformed_rows_are_quarantined(built):
    world = built["world"]
    stores_days = len(built["sandbox"].channels["pos"].z_reports)
    assert _rows(built["duckdb"], "select count(distinct store_code || cast(business_date as varchar)) "
                                  "from staging.stg_square__z_reports")[0][0] == stores_days
    assert _rows(built["duckdb"], "select count(*) from staging.stg_square__z_reports")[0][0] \
        == world.records["square"]["z_reports"]
    quarantined = _rows(built["duckdb"], "select count(*) from staging.stg_square__quarantine")[0][0]
    assert quarantined == world.records["square"]["_quarantine"] > 0
    assert _rows(built["duckdb"], "select count(*) from staging.stg_adyen__quarantine")[0][0] \
        == world.records["adyen"]["_quarantine"]


def test_no_customer_identity_in_clear(built):
    keys = _rows(built["duckdb"], "select distinct customer_key from intermediate.int_pos__orders "
                                  "where customer_key is not null")
    assert keys and all(len(key) == 32 and not key.startswith("SQCUST") for (key,) in keys)


@pytest.mark.parametrize("model", MODELS)
def test_postgres_gives_the_same_rows(built, model):
    sql = f"select * from intermediate.{model}"
    duck, pg = plain_rows(built["duckdb"](sql)), plain_rows(built["postgres"](sql))
    assert len(duck) == len(pg) > 0
    assert duck == pg
