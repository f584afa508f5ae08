"""The sandbox WMS: snapshots are opening stock rolled forward by the feed's movements, never negative,
deterministic, and the ground truth it registers matches what its files and feed hold."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from connectors.sandbox.channels import wms
from connectors.sandbox.world import STORES, WAREHOUSE, StockMovement, World
from connectors.wms.snapshot_file import parse_snapshot

START = date(2026, 11, 2)


def _world(seed: int = 3, **options) -> World:
    world = World(seed=seed, start_date=START, days=3, **options)
    # What sales channels leave in the ledger (they may not be wired into the simulator yet).
    ny = ZoneInfo("America/New_York")
    for n in range(12):
        at = datetime.combine(START + timedelta(days=n % 3), time(10 + n % 8, 5 * n % 60), tzinfo=ny)
        world.stock_movements.append(StockMovement("TEE-BLK-M", WAREHOUSE.code, "ship", -3, at, f"web-{n}"))
    world.stock_movements.append(StockMovement(
        "JKT-RAIN-S", "ST-CHI", "ship", -500, datetime(2026, 11, 3, 13, tzinfo=ZoneInfo("America/Chicago")),
        "pos-big"))  # more than any drawn store stock: the opening stock must cover it
    world.stock_movements.append(StockMovement(
        "BAG-TOTE", "ST-SFO", "return_receipt", 2, datetime(2026, 11, 4, 12, tzinfo=ZoneInfo("America/Los_Angeles")),
        "web-1"))
    # a late sale in San Francisco on the last day: already the next business day in New York
    world.stock_movements.append(StockMovement(
        "CAP-NVY", "ST-SFO", "ship", -1, datetime(2026, 11, 4, 22, 30, tzinfo=ZoneInfo("America/Los_Angeles")),
        "pos-late"))
    return world


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_each_snapshot_is_the_opening_stock_rolled_forward_by_the_feed_up_to_local_midnight():
    world = _world()
    sandbox = wms.simulate(world)
    checked = 0
    for line in sandbox.snapshots:
        zone = ZoneInfo(world.location(line.location).time_zone)
        cutoff = datetime.combine(line.business_date + timedelta(days=1), time(0), tzinfo=zone)
        moved = sum(e["quantity"] for e in sandbox.events
                    if e["location"] == line.location and e["sku"] == line.sku and _instant(e["occurred_at"]) < cutoff)
        assert line.on_hand == sandbox.opening_stock[(line.location, line.sku)] + moved
        assert sandbox.on_hand(line.business_date, line.location, line.sku) == line.on_hand
        assert line.snapshot_at.date() == line.business_date and line.snapshot_at.utcoffset() == zone.utcoffset(
            line.snapshot_at.replace(tzinfo=None))
        checked += 1
    assert checked == 3 * len(world.locations) * len(world.catalog)


def test_stock_is_never_negative_and_the_states_add_up():
    world = _world()
    sandbox = wms.simulate(world)
    running = dict(sandbox.opening_stock)
    for event in sandbox.events:  # feed order is occurrence order
        running[(event["location"], event["sku"])] += event["quantity"]
        assert running[(event["location"], event["sku"])] >= 0, event
    # the big store sale forced a larger opening stock than a store is ever drawn
    assert sandbox.opening_stock[("ST-CHI", "JKT-RAIN-S")] > 60
    for line in sandbox.snapshots:
        states = (line.on_hand, line.available, line.committed, line.damaged, line.quality_control,
                  line.in_transit, line.incoming)
        assert min(states) >= 0
        assert line.available == line.on_hand - line.committed - line.damaged - line.quality_control


def test_the_feed_serves_every_channel_movement_and_the_3pls_own_operations_with_ids():
    world = _world()
    sandbox = wms.simulate(world)
    ids = [e["event_id"] for e in sandbox.events]
    assert len(set(ids)) == len(ids) and [e["sequence"] for e in sandbox.events] == list(range(1, len(ids) + 1))
    assert [_instant(e["occurred_at"]) for e in sandbox.events] == sorted(_instant(e["occurred_at"])
                                                                          for e in sandbox.events)
    by_reference = {e["reference"] for e in sandbox.events}
    assert {m.reference for m in world.stock_movements} <= by_reference
    kinds = {e["type"] for e in sandbox.events}
    assert {"ship", "return_receipt", "transfer_out", "adjustment"} <= kinds
    (returned,) = [e for e in sandbox.events if e["type"] == "return_receipt"]
    assert returned["reason"].startswith("customer return")


def test_transfers_are_in_transit_between_sending_and_receiving():
    world = _world()
    sandbox = wms.simulate(world)
    assert sandbox.transfers
    for transfer in sandbox.transfers:
        sent_day = transfer.sent_at.date()
        line = next(s for s in sandbox.snapshots if (s.business_date, s.location, s.sku) ==
                    (sent_day, transfer.destination, transfer.sku))
        assert line.in_transit >= transfer.units
    received = {(e["reference"], e["sku"]) for e in sandbox.events if e["type"] == "transfer_in"}
    last_day = world.business_days[-1]
    for transfer in sandbox.transfers:
        # sent on the last day -> still on the road when the window ends, so not in the feed
        assert ((transfer.reference, transfer.sku) in received) == (transfer.sent_at.date() != last_day)


def test_the_simulation_is_deterministic_and_owns_its_random_stream():
    first, again, other = wms.simulate(_world()), wms.simulate(_world()), wms.simulate(_world(seed=4))
    assert first.events == again.events and first.snapshots == again.snapshots
    assert first.opening_stock == again.opening_stock and first.malformed == again.malformed
    assert first.events != other.events


def test_ground_truth_matches_the_dropped_files_and_the_feed(tmp_path):
    world = _world(malformed_rate=0.1)
    sandbox = wms.simulate(world)
    paths = wms.drop_files(sandbox, tmp_path)
    assert len(paths) == 3 * len(world.locations)
    assert {p.parent for p in paths} == {tmp_path / "wms_snapshots"}
    parsed = [parse_snapshot(p) for p in paths]
    good = sum(len(p.rows) for p in parsed)
    bad = sum(len(p.quarantined) for p in parsed)
    truth = world.records["wms"]
    assert bad > 0
    assert (good, bad) == (truth["inventory_snapshots"], truth["_quarantine"])
    # the feed serves the late San Francisco sale; the window's ground truth (New York days) does not count it
    assert truth["movements"] == len(sandbox.events) - 1 == len(sandbox.events_in_window(world))
    assert "pos-late" in {e["reference"] for e in sandbox.events}
    assert "pos-late" not in {e["reference"] for e in sandbox.events_in_window(world)}
    assert truth["inventory_levels"] == len(sandbox.levels) == len(world.locations) * len(world.catalog)
    # a good row in a file says what the simulation knows
    rows = {(r["business_date"], r["location"], r["sku"]): r for p in parsed for r in p.rows}
    for line in sandbox.snapshots:
        row = rows.get((line.business_date, line.location, line.sku))
        if row is not None:
            assert (row["on_hand"], row["available"], row["in_transit"]) == (
                line.on_hand, line.available, line.in_transit)
            assert row["snapshot_at"] == line.snapshot_at.astimezone(timezone.utc)


def test_levels_are_the_state_at_the_end_of_the_window():
    world = _world()
    sandbox = wms.simulate(world)
    last = world.business_days[-1]
    for level in sandbox.levels:
        assert level["on_hand"] == sandbox.on_hand(last, level["location"], level["sku"])
    assert {level["location"] for level in sandbox.levels} == {WAREHOUSE.code, *(s.code for s in STORES)}
    per_location = defaultdict(int)
    for level in sandbox.levels:
        per_location[level["location"]] += 1
    assert set(per_location.values()) == {len(world.catalog)}


def test_an_order_placed_before_the_cut_off_and_shipped_after_it_is_committed_at_the_snapshot():
    from connectors.sandbox.world import ChannelOrder, SoldLine
    world = _world()
    ny = ZoneInfo("America/New_York")
    placed, shipped = datetime(2026, 11, 2, 23, 0, tzinfo=ny), datetime(2026, 11, 3, 1, 0, tzinfo=ny)
    world.orders.append(ChannelOrder("shopify_web", "late-1", "#9001", WAREHOUSE.code, 1, placed, "USD",
                                     [SoldLine("li-1", "SOCK-3PK", 4, Decimal("21.75"), Decimal("0"),
                                               Decimal("1.93"))]))
    world.stock_movements.append(StockMovement("SOCK-3PK", WAREHOUSE.code, "ship", -4, shipped, "late-1"))
    sandbox = wms.simulate(world)
    line = next(s for s in sandbox.snapshots if (s.business_date, s.location, s.sku) == (START, WAREHOUSE.code,
                                                                                          "SOCK-3PK"))
    assert line.committed >= 4 and line.available == line.on_hand - line.committed - line.damaged - line.quality_control
    next_day = next(s for s in sandbox.snapshots if (s.business_date, s.location, s.sku) == (
        START + timedelta(days=1), WAREHOUSE.code, "SOCK-3PK"))
    assert next_day.on_hand == line.on_hand + sum(
        e["quantity"] for e in sandbox.events if e["location"] == WAREHOUSE.code and e["sku"] == "SOCK-3PK"
        and datetime(2026, 11, 3, tzinfo=ny) <= _instant(e["occurred_at"]) < datetime(2026, 11, 4, tzinfo=ny))
