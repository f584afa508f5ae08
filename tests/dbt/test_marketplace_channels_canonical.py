"""Amazon's and the regional marketplace's canonical layers against the sandbox's ground truth, on
DuckDB and PostgreSQL.

Everything the sandbox serves (Amazon's Orders API pages and settlement reports, from the Reports API
and from the Seller Central inbox; Bazaarly's daily settlement files; malformed rows quarantined) is
loaded into raw tables, and one `dbt build` of both channels' staging, intermediate models, data tests,
unit tests and singular tests (tests/amazon/, tests/marketplace/) must pass. Per business date each
channel's orders, order lines, payment events and returns must count and add up exactly to what its
simulation tallied; every return must link to the order line it takes back. The same landing zone
replayed into PostgreSQL must give identical rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from connectors.sandbox.simulator import SandboxConfig
from tests.sandbox_raw import load_sandbox_raw, plain_rows, postgres_replica, query, run_dbt

# Seed 6 over three days has Amazon and Bazaarly refunds, and malformed report rows in both channels.
CONFIG = SandboxConfig(seed=6, start_date=date(2026, 11, 2), days=3, orders_per_day=25, anomaly_rate=0.15,
                       malformed_rate=0.05)
ENTITIES = {"orders": ("channel_id", "order_total"), "order_lines": ("channel_id", "net_amount"),
            "payments": ("provider", "gross_amount"), "returns": ("channel_id", "refund_amount")}


@dataclass(frozen=True)
class Channel:
    name: str  # the intermediate models' prefix and the dbt folders' name
    channel_id: str  # the canonical group of its orders, lines, payments and returns
    source: str  # where world.records counts its raw tables
    settlement_stream: str  # the raw table whose malformed rows are quarantined

    def model(self, entity: str) -> str:
        return f"int_{self.name}__{entity}"


CHANNELS = [Channel("amazon", "amazon", "amazon", "settlement_report_rows"),
            Channel("marketplace", "marketplace_bazaarly", "marketplace_bazaarly", "settlement_lines")]
BUILD = ["build", "--select",
         *(f"+{channel.model(entity)}" for channel in CHANNELS for entity in ENTITIES),
         *(f"path:{folder}/{channel.name}" for channel in CHANNELS
           for folder in ("models/staging", "models/intermediate", "tests"))]


def _tallies(target: str, channel: Channel, entity: str) -> dict[str, dict]:
    group, amount = ENTITIES[entity]
    relation = f"intermediate.{channel.model(entity)}"
    if entity == "order_lines":  # a line is dated by its order
        relation = (f"(select l.*, o.business_date from {relation} as l "
                    f"inner join intermediate.{channel.model('orders')} as o on l.order_id = o.order_id) as lines")
    rows = query(target, f"select {group}, business_date, count(*), sum({amount}) from {relation} group by 1, 2")
    return {f"{g}|{d.isoformat()}": {"count": n, "amount": Decimal(a)} for g, d, n, a in rows}


@pytest.fixture(scope="module")
def built(tmp_path_factory, postgres_server):
    work = tmp_path_factory.mktemp("marketplace_channels")
    sandbox, duckdb_file = load_sandbox_raw(CONFIG, work / "home")
    results = {"duckdb": run_dbt(BUILD, duckdb_file, work / "duckdb")}
    with postgres_replica(postgres_server, work / "home", "marketplaces") as (dsn, env):
        results["postgres"] = run_dbt(BUILD, None, work / "postgres", target="postgres", env=env)
        yield {"world": sandbox.world, "duckdb": str(duckdb_file), "postgres": dsn, "results": results}


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c.name)
def test_build_ran_models_data_tests_unit_tests_and_invariants(built, target, channel):
    results = built["results"][target]
    for entity in ENTITIES:
        assert f"model.omnirecon.{channel.model(entity)}" in results
    assert any(node.startswith(f"test.omnirecon.assert_{channel.name}") for node in results)
    assert any(node.startswith(f"unit_test.omnirecon.int_{channel.name}__") for node in results)


@pytest.mark.parametrize("entity", list(ENTITIES))
@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c.name)
def test_models_equal_the_ground_truth(built, channel, entity):
    group = channel.channel_id if entity != "payments" else channel.source
    truth = {key: cell for key, cell in built["world"].canonical.get(entity, {}).items() if key.split("|")[0] == group}
    assert truth, f"the {channel.name} simulation tallied nothing for {entity}"
    assert _tallies(built["duckdb"], channel, entity) == truth


@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c.name)
def test_returns_link_to_the_order_lines_they_take_back(built, channel):
    links = {(x.return_line_id, x.original_channel, x.original_order_id, x.original_order_line_id)
             for x in built["world"].return_links if x.channel == channel.channel_id}
    assert links
    rows = query(built["duckdb"], "select return_line_id, original_channel_id, original_order_id, "
                                  f"original_order_line_id from intermediate.{channel.model('returns')}")
    assert set(rows) == links and len(rows) == len(links)
    lines = {r[0] for r in query(built["duckdb"], f"select order_line_id from intermediate.{channel.model('order_lines')}")}
    assert {row[3] for row in rows} <= lines


@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c.name)
def test_malformed_settlement_rows_are_quarantined_and_not_counted(built, channel):
    quarantined = query(built["duckdb"], f"select count(*) from staging.stg_{channel.name}__quarantine "
                                         f"where stream = '{channel.settlement_stream}'")[0][0]
    assert quarantined == built["world"].records[channel.source]["_quarantine"] > 0


@pytest.mark.parametrize("entity", list(ENTITIES))
@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c.name)
def test_postgres_gives_the_same_rows(built, channel, entity):
    sql = f"select * from intermediate.{channel.model(entity)}"
    duck, pg = plain_rows(query(built["duckdb"], sql)), plain_rows(query(built["postgres"], sql))
    assert len(duck) == len(pg) > 0
    assert duck == pg
