"""The 3PL's WMS in the sandbox world: stock at every location, moved by sales and by the 3PL itself.

Runs after the sales channels. The WMS sees, as movement events with ids:
- every StockMovement the channels appended to `world.stock_movements` (web, Amazon and marketplace
  ships at WH-NJ, store sales and return receipts at the stores, ...), as they were;
- its own operations: purchase-order receipts at WH-NJ now and then, replenishment transfers
  WH-NJ -> stores (transfer_out at 15:00 at the warehouse, transfer_in at 10:00 store time the
  next day; the units are in transit in between, and a transfer sent on the last day is still in
  transit when the window ends), damage write-offs and cycle-count adjustments.

Opening stock (at the start of the window) is drawn per SKU and location (the warehouse holds
plenty, stores less) and raised where the movements would otherwise drive stock below zero, so
on-hand is never negative. So that channels can oversell, each SKU is scarce at the warehouse with
probability min(1, 3 * world.anomaly_rate), on a random stream of its own ("wms:scarcity", so the
other draws are unchanged): its WH-NJ opening stock is then just what the movements need plus 0-3
units (`WmsSandbox.scarce_skus`); with anomaly_rate 0 nothing is scarce.

At the end of each business day, in each location's time zone, the 3PL writes a snapshot per SKU
whose on_hand is exactly the opening stock rolled forward by the movements that occurred before the
next local midnight; the other states:
- quality_control: units of purchase orders received that business day (inspected overnight);
- damaged: units returned damaged (a share of return receipts), kept on hand until disposal;
- committed: units of orders placed before the cut-off and shipped after it (and picks not shipped);
- in_transit: transfers sent to the location, not received yet; incoming: open purchase orders;
- available = on_hand - committed - damaged - quality_control (holds are capped at on_hand).

At `world.malformed_rate` a snapshot row is rendered malformed (negative, fractional or missing
value), which the parser quarantines. Ground truth: world.count("wms", "movements" |
"inventory_snapshots" | "inventory_levels" | "_quarantine", n), where "movements" counts the events
of the window's business days in the legal entity's time zone (what pulling those days with
pull_business_day(time_zone=<entity zone>) lands); the feed also serves the few that occur after.
The canonical inventory marts' truth: world.tally("inventory_movements", location, business date in the
location's zone, units) per landed event, and world.tally("inventory_positions", location, business
date, on_hand) per snapshot row that parses; `end_of_day_on_hand` holds every (day, location, sku).
"""
from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.sandbox.world import CATALOG, STORES, WAREHOUSE, StockMovement, World
from connectors.wms.snapshot_file import INBOX_FOLDER, QUANTITY_COLUMNS, file_name

SOURCE = "wms"
SNAPSHOT_HEADER = ("snapshot_at", "warehouse_code", "sku", "description", "on_hand", "available", "committed",
                   "damaged", "quality_control", "in_transit", "incoming", "lot_number", "expiry_date", "uom")
DAMAGED_RETURN_SHARE = 0.15


@dataclass(frozen=True)
class SnapshotLine:
    business_date: date
    snapshot_at: datetime  # local time of the cut-off, with the location's offset
    location: str
    sku: str
    on_hand: int
    available: int
    committed: int
    damaged: int
    quality_control: int
    in_transit: int
    incoming: int


@dataclass(frozen=True)
class Transfer:
    reference: str
    sku: str
    units: int
    destination: str
    sent_at: datetime
    received_at: datetime  # may fall after the window: then it is still in transit at the end


@dataclass
class WmsSandbox:
    opening_stock: dict[tuple[str, str], int]  # (location, sku) -> units at the start of the window
    movements: list[StockMovement]  # every movement the WMS reports, in feed order (= events)
    events: list[dict]  # the movement feed's payloads, sequence order
    snapshots: list[SnapshotLine]  # one per business day, location and SKU
    malformed: set[tuple[date, str, str]] = field(default_factory=set)  # snapshot rows rendered malformed
    levels: list[dict] = field(default_factory=list)  # the levels API's payloads: the state at the window's end
    end_of_day_on_hand: dict[tuple[date, str, str], int] = field(default_factory=dict)  # (day, location, sku)
    transfers: list[Transfer] = field(default_factory=list)
    scarce_skus: set[str] = field(default_factory=set)  # SKUs opened with barely enough stock at WH-NJ

    def on_hand(self, day: date, location: str, sku: str) -> int:
        return self.end_of_day_on_hand[(day, location, sku)]

    def events_in_window(self, world: World) -> list[dict]:
        """The events that occurred on the window's business days in the legal entity's time zone: what
        pulling those days lands. Later ones (a late West Coast sale, a ship two hours after a late
        order) belong to the next business day, outside the window, though the feed serves them."""
        zone = world.legal_entities[0].time_zone
        start = world.local(world.start_date, time(0), zone)
        end = world.local(world.end_date, time(0), zone)
        return [e for e in self.events
                if start <= datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00")) < end]


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _local(world: World, day: date, location: str, hour: int, minute: int) -> datetime:
    return world.local(day, time(hour, minute), world.location(location).time_zone)


def _own_operations(world: World, rng) -> tuple[list[tuple[StockMovement, str | None]], list[tuple[date, str, int]],
                                                 list[Transfer]]:
    """The 3PL's own movements (with their reasons), the purchase orders (day due, sku, units), the transfers."""
    skus = [item.sku for item in world.catalog]
    moves: list[tuple[StockMovement, str | None]] = []
    purchase_orders: list[tuple[date, str, int]] = []
    transfers: list[Transfer] = []
    po_number = transfer_number = 0
    for day in world.business_days:
        if rng.random() < 0.5:
            po_number += 1
            reference = f"PO-{world.start_date:%y%m}-{po_number:04d}"
            at = _local(world, day, WAREHOUSE.code, 9, rng.randrange(0, 60))
            for sku in rng.sample(skus, rng.randint(2, 4)):
                units = 12 * rng.randint(4, 12)
                purchase_orders.append((day, sku, units))
                moves.append((StockMovement(sku, WAREHOUSE.code, "receipt", units, at, reference), None))
        for store in STORES:
            if rng.random() < 0.6:
                transfer_number += 1
                reference = f"TO-{world.start_date:%y%m}-{transfer_number:04d}"
                sent = _local(world, day, WAREHOUSE.code, 15, rng.randrange(0, 60))
                received = _local(world, day + timedelta(days=1), store.code, 10, rng.randrange(0, 60))
                for sku in rng.sample(skus, rng.randint(1, 3)):
                    units = rng.randint(6, 24)
                    transfers.append(Transfer(reference, sku, units, store.code, sent, received))
                    moves.append((StockMovement(sku, WAREHOUSE.code, "transfer_out", -units, sent, reference), None))
                    if received.date() < world.end_date:  # still in transit when the window ends otherwise
                        moves.append((StockMovement(sku, store.code, "transfer_in", units, received, reference), None))
        if rng.random() < 0.3:
            location = rng.choice(world.locations)
            at = _local(world, day, location.code, rng.randint(11, 17), rng.randrange(0, 60))
            reason = "damaged in handling" if location.kind == "warehouse" else "damaged on shop floor"
            moves.append((StockMovement(rng.choice(skus), location.code, "damage", -rng.randint(1, 2), at,
                                        f"DMG-{day:%Y%m%d}-{location.code}"), reason))
        for _ in range(rng.randint(1, 2)):
            location = rng.choice(world.locations)
            at = _local(world, day, location.code, 7, rng.randrange(0, 60))
            delta = rng.choice((-3, -2, -1, 1, 2, 3))
            moves.append((StockMovement(rng.choice(skus), location.code, "adjustment", delta, at,
                                        f"CC-{day:%Y%m%d}-{location.code}"), "cycle count"))
    return moves, purchase_orders, transfers


def simulate(world: World) -> WmsSandbox:
    rng = world.rng("wms")
    own, purchase_orders, transfers = _own_operations(world, rng)
    reasons: list[str | None] = []
    combined = [(m, None) for m in world.stock_movements] + own
    # Feed order is occurrence order; generation order breaks ties, so the ids are deterministic.
    ordered = sorted(enumerate(combined), key=lambda item: (item[1][0].at.astimezone(timezone.utc), item[0]))
    movements, damaged_returns = [], set()
    for _, (movement, reason) in ordered:
        if movement.kind == "return_receipt":
            damaged = rng.random() < DAMAGED_RETURN_SHARE
            reason = "customer return, damaged" if damaged else "customer return"
            if damaged:
                damaged_returns.add(len(movements))
        movements.append(movement)
        reasons.append(reason)
    events = [{
        "event_id": f"MV-{sequence:08d}", "sequence": sequence, "occurred_at": _utc_text(m.at),
        "recorded_at": _utc_text(m.at + timedelta(minutes=2)), "sku": m.sku, "location": m.location,
        "type": m.kind, "quantity": m.quantity, "reference": m.reference, "reason": reasons[sequence - 1],
    } for sequence, m in enumerate(movements, start=1)]

    opening, scarce = _opening_stock(world, rng, movements)
    sandbox = WmsSandbox(opening_stock=opening, movements=movements, events=events, snapshots=[],
                         transfers=transfers, scarce_skus=scarce)
    order_times = {order.order_id: order.at for order in world.orders}
    by_place: dict[tuple[str, str], list[tuple[int, StockMovement]]] = defaultdict(list)
    for index, movement in enumerate(movements):
        by_place[(movement.location, movement.sku)].append((index, movement))
    for day in world.business_days:
        for location in world.locations:
            cutoff = _local(world, day + timedelta(days=1), location.code, 0, 0)
            label = _local(world, day, location.code, 23, 59).replace(second=59)
            for item in world.catalog:
                line = _snapshot_line(sandbox, by_place[(location.code, item.sku)], day, label, cutoff,
                                      location.code, item.sku, damaged_returns, purchase_orders, order_times)
                sandbox.snapshots.append(line)
                sandbox.end_of_day_on_hand[(day, location.code, item.sku)] = line.on_hand
                if rng.random() < world.malformed_rate:
                    sandbox.malformed.add((day, location.code, item.sku))
    last_day = world.business_days[-1]
    sandbox.levels = [{"sku": s.sku, "location": s.location, "as_of": _utc_text(s.snapshot_at),
                       **{column: getattr(s, column) for column in QUANTITY_COLUMNS}}
                      for s in sandbox.snapshots if s.business_date == last_day]

    _tally(world, sandbox)
    world.count(SOURCE, "movements", len(sandbox.events_in_window(world)))
    world.count(SOURCE, "inventory_snapshots", len(sandbox.snapshots) - len(sandbox.malformed))
    world.count(SOURCE, "_quarantine", len(sandbox.malformed))
    world.count(SOURCE, "inventory_levels", len(sandbox.levels))
    return sandbox


def _tally(world: World, sandbox: WmsSandbox) -> None:
    """What the inventory marts must hold. inventory_movements: the events the window's pulls land, per
    location and business date in the location's zone, amount = net units. inventory_positions: the
    snapshot rows that parse (a malformed one is quarantined), amount = on_hand."""
    for event in sandbox.events_in_window(world):
        zone = ZoneInfo(world.location(event["location"]).time_zone)
        day = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).astimezone(zone).date()
        world.tally("inventory_movements", event["location"], day, Decimal(event["quantity"]))
    for line in sandbox.snapshots:
        if (line.business_date, line.location, line.sku) not in sandbox.malformed:
            world.tally("inventory_positions", line.location, line.business_date, Decimal(line.on_hand))


def _opening_stock(world: World, rng,
                   movements: list[StockMovement]) -> tuple[dict[tuple[str, str], int], set[str]]:
    """A drawn stock per SKU and location, raised to cover the lowest point the movements reach; and the SKUs
    scarce at the warehouse, whose opening stock is only what the movements need plus a few units."""
    running: dict[tuple[str, str], int] = defaultdict(int)
    lowest: dict[tuple[str, str], int] = defaultdict(int)
    for m in movements:
        key = (m.location, m.sku)
        running[key] += m.quantity
        lowest[key] = min(lowest[key], running[key])
    scarcity = world.rng("wms:scarcity")  # its own stream: the regular draws stay what they were
    scarce_share = min(1.0, 3 * world.anomaly_rate)
    spare = {item.sku: scarcity.randint(0, 3) for item in world.catalog if scarcity.random() < scarce_share}
    opening = {}
    for location in world.locations:
        for item in world.catalog:
            key = (location.code, item.sku)
            drawn = rng.randint(300, 600) if location.kind == "warehouse" else rng.randint(20, 60)
            if location.code == WAREHOUSE.code and item.sku in spare:
                # barely enough: the channels keep selling it, so ATS hits zero and oversells happen
                opening[key] = max(0, -lowest[key]) + spare[item.sku]
            else:
                opening[key] = max(drawn, -lowest[key])
    return opening, set(spare)


def _snapshot_line(sandbox: WmsSandbox, here: list[tuple[int, StockMovement]], day: date, label: datetime,
                   cutoff: datetime, location: str, sku: str, damaged_returns: set[int], purchase_orders,
                   order_times) -> SnapshotLine:
    """One SKU at one location at one cut-off; `here` are the (feed index, movement)s of that SKU there."""
    on_hand = sandbox.opening_stock[(location, sku)]
    damaged = quality_control = committed = 0
    shipped: set[str] = set()
    for index, m in here:
        before_cutoff = m.at < cutoff
        if before_cutoff:
            on_hand += m.quantity
            if index in damaged_returns:
                damaged += m.quantity
            if m.kind == "receipt" and m.at.astimezone(cutoff.tzinfo).date() == day:
                quality_control += m.quantity
            if m.kind == "ship":
                shipped.add(m.reference)
        elif m.kind == "ship":
            placed = order_times.get(m.reference)
            if placed is not None and placed < cutoff:
                committed += -m.quantity
    committed += sum(-m.quantity for _, m in here if m.kind == "pick" and m.at < cutoff and m.reference not in shipped)
    in_transit = sum(t.units for t in sandbox.transfers
                     if t.sku == sku and t.destination == location and t.sent_at < cutoff <= t.received_at)
    incoming = sum(units for due, po_sku, units in purchase_orders
                   if po_sku == sku and location == WAREHOUSE.code and due > day)
    # Holds can never exceed what is physically there.
    quality_control = min(quality_control, on_hand)
    damaged = min(max(damaged, 0), on_hand - quality_control)
    committed = min(max(committed, 0), on_hand - quality_control - damaged)
    return SnapshotLine(day, label, location, sku, on_hand, on_hand - committed - damaged - quality_control,
                        committed, damaged, quality_control, in_transit, incoming)


def drop_files(sandbox: WmsSandbox, inbox_root: Path) -> list[Path]:
    """Write one snapshot CSV per business day and location into inbox_root/wms_snapshots/."""
    folder = Path(inbox_root) / INBOX_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    titles = {item.sku: item.title for item in CATALOG}
    by_file: dict[tuple[date, str], list[SnapshotLine]] = defaultdict(list)
    for line in sandbox.snapshots:
        by_file[(line.business_date, line.location)].append(line)
    paths = []
    for (day, location), lines in by_file.items():
        path = folder / file_name(location, day)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(SNAPSHOT_HEADER)
            for line in lines:
                cells = {"snapshot_at": line.snapshot_at.isoformat(), "warehouse_code": line.location, "sku": line.sku,
                         "description": titles.get(line.sku, ""), "lot_number": "", "expiry_date": "", "uom": "EA",
                         **{column: str(getattr(line, column)) for column in QUANTITY_COLUMNS}}
                if (day, location, line.sku) in sandbox.malformed:
                    _malform(cells, line)
                writer.writerow([cells[column] for column in SNAPSHOT_HEADER])
        paths.append(path)
    return paths


def _malform(cells: dict[str, str], line: SnapshotLine) -> None:
    """One of the faults 3PL exports really have, picked by the row's own data so it is deterministic."""
    fault = (line.on_hand + len(line.sku) + line.business_date.day) % 4
    if fault == 0:
        cells["on_hand"] = f"-{line.on_hand or 1}"
    elif fault == 1:
        cells["available"] = f"{line.available}.5"
    elif fault == 2:
        cells["sku"] = ""
    else:
        cells["committed"] = "n/a"
