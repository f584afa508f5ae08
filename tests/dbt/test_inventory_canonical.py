"""The canonical inventory marts, built by dbt from what the sandbox WMS serves, against its ground truth.

The sandbox retailer runs every channel (their ships and returns become WMS movements), everything it
serves is pulled and loaded into raw tables (tests/sandbox_raw.py), and dbt builds the WMS staging, the
inventory intermediates and the marts inventory_movements and inventory_positions. Then:

- inventory_movements holds, per location and business date (the location's zone), exactly the events
  and net units the simulation tallied (world.canonical["inventory_movements"]);
- inventory_positions holds one row per snapshot row that parses, and its on_hand is the sandbox's
  end-of-day on hand of that (day, location, SKU); the rolled-forward on hand agrees wherever the feed
  covers the day; the quarantined snapshot rows are exactly the missing positions;
- a ship of a web order carries the order's correlation id;
- the same build on PostgreSQL, from the same landed files, gives identical rows.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2
import pytest

from connectors.landing_zone import LandingZone
from connectors.raw_load import RAW_SOURCES, load_landed_files
from connectors.sandbox.simulator import SandboxConfig
from connectors.warehouse import connect
from orchestration.inventory_truth import expected, held
from tests.sandbox_raw import load_sandbox_raw, run_dbt

# Four days, so a snapshot row quarantined mid-window leaves a gap the next day's roll must span.
CONFIG = SandboxConfig(seed=4, start_date=date(2026, 11, 2), days=4, orders_per_day=20, malformed_rate=0.04,
                       anomaly_rate=0.1)  # scarce enough that the warehouse sells out and channels oversell

# The canonical orders mart (the movements' correlation ids) and its parents, without their tests: other
# channels' data tests are theirs to pass; this module checks the inventory models.
ORDERS_BUILD = ["build", "--select", "+orders", "+order_lines", "--exclude-resource-type", "test", "unit_test"]
INVENTORY_BUILD = ["build", "--select", "source:wms", "inventory_locations", "ats_channel_rules", "ats_channel_locations",
                   "safety_stock", "inventory_reservations", "path:models/staging/wms",
                   "path:models/intermediate/inventory", "path:models/marts/inventory", "path:tests/inventory"]

MOVEMENT_COLUMNS = ("movement_id", "sku", "location_id", "movement_type", "quantity", "occurred_at", "business_date",
                    "reference", "reference_type", "correlation_id", "reason", "recorded_at", "feed_sequence")
POSITION_COLUMNS = ("inventory_position_id", "sku", "location_id", "business_date", "snapshot_at", "on_hand",
                    "available", "committed", "damaged", "quality_control", "in_transit", "incoming",
                    "previous_business_date", "previous_on_hand", "movement_quantity", "movement_count",
                    "on_hand_from_movements", "on_hand_difference", "is_feed_complete", "is_latest")


def _build(duckdb_file: Path | None, work: Path, **options) -> dict[str, dict]:
    run_dbt(ORDERS_BUILD, duckdb_file, work / "orders", **options)
    return run_dbt(INVENTORY_BUILD, duckdb_file, work / "inventory", **options)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    home = tmp_path_factory.mktemp("raw")
    world, duckdb_file = load_sandbox_raw(CONFIG, home)
    return world, duckdb_file, home


@pytest.fixture(scope="module")
def built(sandbox, tmp_path_factory):
    world, duckdb_file, _ = sandbox
    results = _build(duckdb_file, tmp_path_factory.mktemp("dbt"))
    return world, duckdb_file, results


def _rows(duckdb_file: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        return con.execute(sql).fetchall()


def _tallies(rows) -> dict[str, dict]:
    return {f"{group}|{day.isoformat()}": {"count": count, "amount": Decimal(amount)}
            for group, day, count, amount in rows}


def test_every_inventory_model_and_test_ran(built):
    _, _, results = built
    names = {node.split(".")[-1] for node in results}
    assert {"stg_wms__movements", "stg_wms__inventory_snapshots", "stg_wms__inventory_levels", "stg_wms__quarantine",
            "int_inventory__movements", "int_inventory__positions", "inventory_movements",
            "inventory_positions"} <= names
    # the warning-severity invariants pass on the sandbox (no warning either), and the unit test ran
    for test in ("assert_inventory_on_hand_rolls_forward_from_movements", "assert_inventory_available_is_on_hand_less_holds",
                 "assert_inventory_levels_agree_with_the_snapshot_of_their_moment",
                 "assert_every_wms_record_reaches_the_inventory_marts", "assert_inventory_movement_signs_match_their_type"):
        (result,) = [r for node, r in results.items() if node.endswith("." + test)]
        assert result["status"] == "pass", (test, result["message"])
    assert any(node.startswith("unit_test.") and "int_inventory__positions" in node for node in results)


def test_movements_per_location_and_business_date_are_the_sandboxs(built):
    world, duckdb_file, _ = built
    actual = _tallies(_rows(duckdb_file, """
        select location_id, business_date, count(*), sum(quantity)
        from marts.inventory_movements group by location_id, business_date"""))
    assert actual == world.world.canonical["inventory_movements"]
    wms = world.channels["wms"]
    assert sum(cell["count"] for cell in actual.values()) == len(wms.events_in_window(world.world))
    assert {row[0] for row in _rows(duckdb_file, "select distinct movement_type from marts.inventory_movements")} >= {
        "ship", "return_receipt", "receipt", "transfer_out", "transfer_in", "adjustment"}


def test_every_position_is_the_sandboxs_end_of_day_on_hand(built):
    world, duckdb_file, _ = built
    wms = world.channels["wms"]
    positions = {(day, location, sku): row for day, location, sku, *row in _rows(duckdb_file, """
        select business_date, location_id, sku, on_hand, available, committed, damaged, quality_control,
               in_transit, incoming
        from marts.inventory_positions""")}
    truth = {(s.business_date, s.location, s.sku): s for s in wms.snapshots}
    # one position per snapshot row that parses; the quarantined rows are exactly the missing ones
    assert wms.malformed and set(positions) == set(truth) - wms.malformed
    for key, (on_hand, available, committed, damaged, quality_control, in_transit, incoming) in positions.items():
        line = truth[key]
        assert on_hand == wms.on_hand(*key)
        assert (available, committed, damaged, quality_control, in_transit, incoming) == (
            line.available, line.committed, line.damaged, line.quality_control, line.in_transit, line.incoming), key
    actual = _tallies(_rows(duckdb_file, """
        select location_id, business_date, count(*), sum(on_hand)
        from marts.inventory_positions group by location_id, business_date"""))
    assert actual == world.world.canonical["inventory_positions"]
    quarantined = _rows(duckdb_file, "select count(*) from staging.stg_wms__quarantine where stream = 'inventory_snapshots'")
    assert quarantined == [(len(wms.malformed),)]


def test_the_rolled_forward_on_hand_is_the_sandboxs_wherever_the_feed_covers_the_day(built):
    world, duckdb_file, _ = built
    wms = world.channels["wms"]
    rows = _rows(duckdb_file, """
        select business_date, location_id, sku, previous_business_date, on_hand_from_movements, on_hand_difference,
               is_feed_complete, is_latest
        from marts.inventory_positions""")
    first_day, last_day = world.world.business_days[0], world.world.business_days[-1]
    compared = spanned_gap = 0
    for day, location, sku, previous, rolled, difference, complete, latest in rows:
        if previous is None:
            assert rolled is None and difference is None
            continue
        # only the last day of a store west of the legal entity waits for the entity's next day's pull
        west = world.world.location(location).time_zone != world.world.legal_entities[0].time_zone
        assert complete == (not (west and day == last_day)), (day, location)
        if complete:
            assert rolled == wms.on_hand(day, location, sku) and difference == 0, (day, location, sku)
            compared += 1
        spanned_gap += (day - previous).days > 1
    assert compared > len(rows) // 2 and spanned_gap > 0
    assert {(day, complete) for day, *_, complete, _ in rows if day == first_day} == {(first_day, True)}
    latest = {(location, sku): day for day, location, sku, *_, is_latest in rows if is_latest}
    assert len(latest) == len(world.world.locations) * len(world.world.catalog)
    assert all(day == max(d for d, loc, s, *_ in rows if (loc, s) == key) for key, day in latest.items())


def test_a_ship_of_a_web_order_carries_its_correlation_id(built):
    world, duckdb_file, _ = built
    web_orders = {o.order_id for o in world.world.orders if o.channel == "shopify_web"}
    ships = _rows(duckdb_file, """
        select reference, correlation_id from marts.inventory_movements
        where movement_type = 'ship' and location_id = 'WH-NJ'""")
    linked = [(reference, correlation) for reference, correlation in ships if reference in web_orders]
    assert linked and all(correlation == f"shopify_web:order:{reference}" for reference, correlation in linked)
    # 3PL documents are never mistaken for orders
    assert _rows(duckdb_file, """
        select count(*) from marts.inventory_movements
        where reference_type <> 'order' and correlation_id is not null""") == [(0,)]


def _held(duckdb_file: Path, part: str) -> dict:
    with connect(str(duckdb_file)) as warehouse:
        return held(warehouse, part)


def test_inventory_states_are_the_sandboxs_at_every_days_cut_off(built):
    world, duckdb_file, _ = built
    actual = _held(duckdb_file, "states")
    truth = expected(world.ground_truth["inventory"], "states")
    assert len(truth) == len(world.world.business_days) * len(world.world.locations) * len(world.world.catalog)
    assert actual == truth
    sources = {values[0] for values in actual.values()}
    # the sandbox exercises what the rules are for: a quarantined snapshot rolled forward, orders committing
    # stock, a reservation and the safety-stock fallback
    assert "rolled_forward" in sources
    assert any(values[2] for values in actual.values()) and any(values[3] for values in actual.values())
    assert len({values[6] for values in actual.values()}) >= 3


def test_available_to_sell_is_the_sandboxs_for_every_sku_location_and_channel(built):
    world, duckdb_file, _ = built
    by_location = _held(duckdb_file, "ats")
    assert by_location == expected(world.ground_truth["inventory"], "ats")
    network = _held(duckdb_file, "ats_by_channel")
    assert network == expected(world.ground_truth["inventory"], "ats_by_channel")
    assert min(v for (v,) in [*by_location.values(), *network.values()]) == 0  # sold out somewhere, never negative
    current = _rows(duckdb_file, "select distinct business_date from marts.available_to_sell where is_current")
    assert current == [(world.world.business_days[-1],)]


def test_every_injected_oversell_is_reported(built):
    world, duckdb_file, _ = built
    truth = expected(world.ground_truth["inventory"], "oversells")
    assert truth, "the sandbox oversold nothing: this test would prove nothing"
    assert _held(duckdb_file, "oversells") == truth
    assert _rows(duckdb_file, "select distinct reason_code, ats_before_order from marts.oversold_order_lines") == [
        ("oversold", 0)]


def _value(value):
    if isinstance(value, datetime):  # the same instant, whatever the session's zone
        return value.astimezone(timezone.utc).isoformat()
    return value.isoformat() if isinstance(value, date) else value


def _normalised(rows) -> list[tuple]:
    return sorted((tuple(_value(value) for value in row) for row in rows), key=repr)


def test_postgres_builds_the_same_inventory_marts(built, sandbox, postgres_database, tmp_path):
    _, duckdb_file, home = sandbox
    landing = LandingZone(home / "landing")
    with connect(postgres_database) as warehouse:
        for source_dir in sorted(p for p in landing.root.iterdir() if p.is_dir() and p.name in RAW_SOURCES):
            # every landed extract and dropped file (not the event store's lock or a landing still in progress)
            files = sorted(p for p in source_dir.rglob("*")
                           if p.is_file() and not p.name.startswith(".") and p.suffix != ".tmp")
            load_landed_files(warehouse, files, source=source_dir.name)
    dbname = postgres_database.rsplit("/", 1)[1]
    _build(None, tmp_path / "pg", target="postgres", env={"OMNIRECON_PG_DBNAME": dbname})
    with psycopg2.connect(postgres_database) as pg, pg.cursor() as cur:
        for mart, columns in (("inventory_movements", MOVEMENT_COLUMNS), ("inventory_positions", POSITION_COLUMNS),
                              ("inventory_states", ("*",)), ("available_to_sell", ("*",)),
                              ("available_to_sell_by_channel", ("*",)), ("oversold_order_lines", ("*",))):
            cur.execute(f"select {', '.join(columns)} from marts.{mart}")
            on_postgres = _normalised(cur.fetchall())
            on_duckdb = _normalised(_rows(duckdb_file, f"select {', '.join(columns)} from marts.{mart}"))
            assert on_postgres and on_postgres == on_duckdb, mart
