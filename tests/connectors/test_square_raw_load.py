"""What the stores' sandbox serves and drops, pulled and loaded into raw_square on DuckDB and PostgreSQL.

The raw module is registered for the test only (wiring it into RAW_SOURCES is the lead's job):
every table's distinct records equal the sandbox's ground truth, a load repeated adds nothing,
and a malformed Z report row is quarantined while the rest of its file lands.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connectors import raw_load
from connectors.landing_zone import LandingZone
from connectors.sandbox.channels import pos
from connectors.sandbox.square_api import FakeSquareAPI
from connectors.sandbox.world import ChannelOrder, SoldLine, World
from connectors.shopify.extract import CursorStore
from connectors.square import raw_tables
from connectors.square.client import SquareClient
from connectors.square.daily_pull import pull_business_day
from connectors.warehouse import connect

TOKEN = "EAAAl-raw-load-token"


@pytest.fixture(scope="module")
def pulled(tmp_path_factory):
    """Three business days pulled over HTTP, and the Z reports dropped, with malformed rows on purpose."""
    folder = tmp_path_factory.mktemp("square")
    world = World(seed=3, start_date=date(2026, 11, 2), days=3, malformed_rate=0.05)
    for k in range(30):  # web orders a store can take back (the web shop simulation runs first)
        world.orders.append(ChannelOrder("shopify_web", str(5_100_000_001 + k), f"#{1001 + k}", "WH-NJ", None,
                                         datetime(2026, 11, 1, 12, tzinfo=timezone.utc) + timedelta(hours=k), "USD",
                                         [SoldLine(f"L{k}", "CAP-NVY", 2, Decimal("19.99"), Decimal("0"),
                                                   Decimal("3.55"))]))
    sandbox = pos.simulate(world)
    landing, cursors = LandingZone(folder / "landing"), CursorStore(folder / "cursors.json")
    with FakeSquareAPI(sandbox, TOKEN) as api:
        client = SquareClient(api.base_url, TOKEN, backoff_seconds=0.001, orders_page_limit=20, list_page_limit=20)
        for day in world.business_days:
            pull_business_day(client, landing, cursors, day=day, time_zone="America/New_York", log=lambda _: None)
    dropped = pos.drop_files(sandbox, folder / "inbox")
    return world, sandbox, landing.files("square") + dropped


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path, monkeypatch):
    monkeypatch.setitem(raw_load.RAW_SOURCES, "square", raw_tables)
    target = str(tmp_path / "w.duckdb") if request.param == "duckdb" else request.getfixturevalue("postgres_database")
    with connect(target) as wh:
        yield wh


def _records(wh) -> dict[str, int]:
    counts = {table: wh.fetchall(f"select count(distinct {key}) from raw_square.{table}")[0][0]
              for table, key in raw_tables.RECORD_KEYS.items()}
    counts["_quarantine"] = wh.fetchall("select count(*) from raw_square._quarantine")[0][0]
    return counts


def test_every_raw_table_holds_what_the_sandbox_served(pulled, warehouse):
    world, sandbox, files = pulled
    report = raw_load.load_landed_files(warehouse, files, source="square")
    assert _records(warehouse) == world.records["square"]
    assert set(raw_tables.RECORD_KEYS) == set(raw_tables.RAW_TABLES)
    assert report.quarantined == world.records["square"]["_quarantine"] > 0
    # money stays exact: integer minor units, to the cent of what Square served
    served = sum(o["total_money"]["amount"] for o in sandbox.orders)
    assert warehouse.fetchall("select sum(total_money) from raw_square.orders")[0][0] == served
    web = warehouse.fetchall("select count(*) from raw_square.orders where returned_channel = 'shopify_web'")[0][0]
    unlinked = warehouse.fetchall("select count(*) from raw_square.refunds where unlinked is true")[0][0]
    assert web == unlinked == sum(1 for r in sandbox.refunds if r.get("unlinked")) > 0


def test_loading_again_adds_nothing(pulled, warehouse):
    _, _, files = pulled
    raw_load.load_landed_files(warehouse, files, source="square")
    rows = {t: warehouse.fetchall(f"select count(*) from raw_square.{t}")[0][0] for t in raw_tables.RAW_TABLES}
    again = raw_load.load_landed_files(warehouse, files, source="square")
    assert again.files_loaded == 0 and again.files_skipped == len(files)
    assert {t: warehouse.fetchall(f"select count(*) from raw_square.{t}")[0][0] for t in raw_tables.RAW_TABLES} == rows


def test_a_malformed_z_report_row_is_quarantined_and_its_neighbours_land(pulled, warehouse):
    _, sandbox, files = pulled
    raw_load.load_landed_files(warehouse, files, source="square")
    report = next(z for z in sandbox.z_reports if z.malformed)
    landed = warehouse.fetchall(
        "select section, line_name, amount from raw_square.z_reports where location_id = %s and business_date = %s"
        .replace("%s", "'{}'").format(report.location_id, report.business_date.isoformat()))
    assert len(landed) == len(report.lines) - len(report.malformed)
    bad_lines = {(report.lines[i][0], report.lines[i][1]) for i in report.malformed}
    assert not bad_lines & {(section, line) for section, line, _ in landed}
    reasons = [json.loads(p) for (p,) in warehouse.fetchall("select _payload from raw_square._quarantine")]
    assert any(r.get("Section") == s and r.get("Line") == line for r in reasons for s, line in bad_lines)
