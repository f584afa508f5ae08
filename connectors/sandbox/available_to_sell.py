"""Ground truth of the inventory marts: stock states, available to sell (ATS) per channel, and oversells.

What `marts.inventory_states`, `marts.available_to_sell`, `marts.available_to_sell_by_channel` and
`marts.oversold_order_lines` must hold for a sandbox run, computed exactly as docs/inventory.md
specifies, but from the simulator's own knowledge of the world rather than from what the pipeline
loaded: the 3PL's true end-of-day snapshot lines (connectors/sandbox/channels/wms.py), the orders
every channel remembers in `world.orders` (a cancelled order is never there, so it commits and
oversells nothing) and the WMS's ship movements. The rules come from the same dbt seeds the models
read (ats_channel_rules, ats_channel_locations, safety_stock, inventory_reservations).

Only a snapshot row the 3PL rendered malformed is rolled forward from the latest earlier good row,
by the movement events the pipeline lands (`WmsSandbox.events_in_window`): that is all the retailer
can know, so it is what a correct pipeline must compute. A location and SKU with no good row yet
is 'unknown' and sells nothing. ATS uses integer floor arithmetic, the buffer's favour.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.sandbox.channels.wms import SnapshotLine, WmsSandbox
from connectors.sandbox.world import World

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
DAMAGED_RETURN = "customer return, damaged"


@dataclass(frozen=True)
class ChannelRule:
    channel_id: str
    fulfilled_at_sale: bool  # a store sale leaves with the customer: it commits nothing
    buffer_percent: int
    buffer_units: int
    publish_to: str  # the channel API that receives its ATS; empty: not published


@dataclass(frozen=True)
class Reservation:
    sku: str
    location: str
    units: int
    reserved_from: date
    reserved_until: date | None  # open-ended when None

    def active_on(self, day: date) -> bool:
        return self.reserved_from <= day and (self.reserved_until is None or day <= self.reserved_until)


@dataclass(frozen=True)
class InventoryRules:
    """The seeds the inventory models read: channel rules, who may fulfil what, safety stock, reservations."""
    channels: dict[str, ChannelRule]
    fulfilling_locations: dict[str, tuple[str, ...]]  # channel -> locations that may fulfil it
    safety_stock: dict[tuple[str | None, str | None], int]  # (sku or None, location or None) -> units
    reservations: tuple[Reservation, ...]

    def safety_stock_for(self, location: str, sku: str) -> int:
        """Most specific row first: SKU at the location, the SKU anywhere, the location, the default."""
        for key in ((sku, location), (sku, None), (None, location), (None, None)):
            if key in self.safety_stock:
                return self.safety_stock[key]
        return 0

    def reserved_on(self, day: date, location: str, sku: str) -> int:
        return sum(r.units for r in self.reservations if r.location == location and r.sku == sku and r.active_on(day))


def load_rules(seeds: Path = SEEDS) -> InventoryRules:
    """Read the inventory seeds the way dbt loads them (empty cells are nulls)."""
    def rows(name: str) -> list[dict[str, str]]:
        with (seeds / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    channels = {row["channel_id"]: ChannelRule(row["channel_id"], row["fulfilled_at_sale"].strip().lower() == "true",
                                               int(row["buffer_percent"]), int(row["buffer_units"]),
                                               row["publish_to"].strip())
                for row in rows("ats_channel_rules")}
    fulfilling: dict[str, list[str]] = defaultdict(list)
    for row in rows("ats_channel_locations"):
        fulfilling[row["channel_id"]].append(row["location_id"])
    safety = {(row["sku"] or None, row["location_id"] or None): int(row["units"]) for row in rows("safety_stock")}
    reservations = tuple(Reservation(row["sku"], row["location_id"], int(row["units"]),
                                     date.fromisoformat(row["reserved_from"]),
                                     date.fromisoformat(row["reserved_until"]) if row["reserved_until"] else None)
                         for row in rows("inventory_reservations"))
    return InventoryRules(channels, {channel: tuple(locations) for channel, locations in fulfilling.items()},
                          safety, reservations)


def after_buffer(available: int, rule: ChannelRule) -> int:
    """A channel's share of what is available: the percentage held back rounded in the buffer's favour (floor
    of what is left), then the fixed units; never below zero."""
    return max(0, (available * (100 - rule.buffer_percent)) // 100 - rule.buffer_units)


def ats_truth(world: World, wms_sandbox: WmsSandbox, rules: InventoryRules | None = None,
              lost_order_lines: frozenset[tuple[str, str]] = frozenset()) -> dict:
    """What the inventory marts must hold for this world, as JSON-friendly rows in a stable order.

    lost_order_lines: (order id, sku) whose only record was quarantined on load (a malformed marketplace sale
    row): the retailer never learns of them, so they commit nothing and oversell nothing."""
    rules = rules or load_rules()
    days = world.business_days
    physical = _physical_stock(world, wms_sandbox)
    committed = _committed_units(world, wms_sandbox, rules, lost_order_lines)
    states = {key: _state(key, stock, committed.get(key, 0), rules) for key, stock in physical.items()}
    ats, by_channel = _available_to_sell(world, states, rules)
    oversells = _oversells(world, by_channel, rules, set(days), lost_order_lines)
    return {
        "states": [_json(states[key]) for key in sorted(states)],
        "ats": [_json(ats[key]) for key in sorted(ats)],
        "ats_by_channel": [_json(by_channel[key]) for key in sorted(by_channel)],
        "oversells": [_json(row) for row in sorted(oversells, key=lambda r: (r["business_date"], r["channel_id"],
                                                                             r["order_id"], r["sku"]))],
    }


# --- physical stock: the snapshot, or the latest good one rolled forward -------------------------------------

def _physical_stock(world: World, wms_sandbox: WmsSandbox) -> dict[tuple[date, str, str], dict]:
    """on_hand, quality_control, damaged, in_transit and incoming per (day, location, sku), with their source."""
    lines = {(s.business_date, s.location, s.sku): s for s in wms_sandbox.snapshots}
    daily = _daily_movements(world, wms_sandbox)
    stock = {}
    for location in world.locations:
        for item in world.catalog:
            last_good: SnapshotLine | None = None
            for day in world.business_days:
                key = (day, location.code, item.sku)
                line = lines.get(key)
                if line is not None and key not in wms_sandbox.malformed:
                    last_good = line
                    stock[key] = _from_snapshot(line)
                elif last_good is None:
                    stock[key] = _unknown()
                else:
                    stock[key] = _rolled_forward(last_good, day, daily[(location.code, item.sku)])
    return stock


def _daily_movements(world: World, wms_sandbox: WmsSandbox) -> dict[tuple[str, str], dict[date, dict[str, int]]]:
    """Landed movement events per location and SKU and business date (the location's local day): net units,
    units received (inspected overnight) and units returned damaged."""
    daily: dict[tuple[str, str], dict[date, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: {"net": 0, "received": 0, "damaged_returns": 0}))
    for event in wms_sandbox.events_in_window(world):
        cell = daily[(event["location"], event["sku"])][_local_day(world, event["occurred_at"], event["location"])]
        cell["net"] += event["quantity"]
        if event["type"] == "receipt":
            cell["received"] += event["quantity"]
        if event["reason"] == DAMAGED_RETURN:
            cell["damaged_returns"] += event["quantity"]
    return daily


def _from_snapshot(line: SnapshotLine) -> dict:
    return _capped({"state_source": "snapshot", "snapshot_date": line.business_date, "on_hand": line.on_hand,
                    "quality_control": line.quality_control, "damaged": line.damaged,
                    "in_transit": line.in_transit, "incoming": line.incoming})


def _rolled_forward(snapshot: SnapshotLine, day: date, daily: dict[date, dict[str, int]]) -> dict:
    """The earlier good snapshot moved on by the landed movements of the days after it, through `day`."""
    since = [daily[d] for d in daily if snapshot.business_date < d <= day]
    return _capped({
        "state_source": "rolled_forward", "snapshot_date": snapshot.business_date,
        "on_hand": snapshot.on_hand + sum(cell["net"] for cell in since),
        # inspected overnight: only the day's own receipts are still held
        "quality_control": daily[day]["received"] if day in daily else 0,
        "damaged": snapshot.damaged + sum(cell["damaged_returns"] for cell in since),
        # not on hand, so no movement of the feed changes them: carried from the snapshot
        "in_transit": snapshot.in_transit, "incoming": snapshot.incoming,
    })


def _unknown() -> dict:
    """No good snapshot yet: nobody vouches for the stock, so it is not sold."""
    return {"state_source": "unknown", "snapshot_date": None, "on_hand": None, "quality_control": None,
            "damaged": None, "in_transit": None, "incoming": None}


def _capped(stock: dict) -> dict:
    """Holds never exceed what is there: quality control at most on hand, damaged at most the rest (and not
    below zero). A hold is never negative either, even if rolled-forward on hand were."""
    there = max(stock["on_hand"], 0)
    stock["quality_control"] = min(stock["quality_control"], there)
    stock["damaged"] = min(max(stock["damaged"], 0), max(there - stock["quality_control"], 0))
    return stock


# --- committed: sold by a channel that ships later, not shipped yet ------------------------------------------

def _committed_units(world: World, wms_sandbox: WmsSandbox, rules: InventoryRules,
                     lost_order_lines: frozenset[tuple[str, str]]) -> dict[tuple[date, str, str], int]:
    """Per (day, location, sku): units of orders placed on or before the day less what shipped by its cut-off,
    never below zero per order and SKU. A store sale leaves with the customer and commits nothing."""
    shipped: dict[tuple[str, str, str], list[tuple[date, int]]] = defaultdict(list)  # (order, location, sku)
    for movement in wms_sandbox.movements:
        if movement.kind == "ship":
            shipped[(movement.reference, movement.location, movement.sku)].append(
                (movement.at.astimezone(_zone(world, movement.location)).date(), -movement.quantity))
    committed: dict[tuple[date, str, str], int] = defaultdict(int)
    for order in _orders_shipped_later(world, rules):
        placed = _order_day(world, order.at)
        for sku, units in _ordered_units(order, lost_order_lines).items():
            shipments = shipped[(order.order_id, order.location, sku)]
            for day in world.business_days:
                if placed <= day:
                    open_units = units - sum(q for shipped_on, q in shipments if shipped_on <= day)
                    committed[(day, order.location, sku)] += max(0, open_units)
    return committed


def _orders_shipped_later(world: World, rules: InventoryRules):
    return [o for o in world.orders if o.channel in rules.channels and not rules.channels[o.channel].fulfilled_at_sale]


def _ordered_units(order, lost_order_lines: frozenset[tuple[str, str]]) -> dict[str, int]:
    units: dict[str, int] = defaultdict(int)
    for line in order.lines:
        if (order.order_id, line.sku) not in lost_order_lines:
            units[line.sku] += line.quantity
    return units


# --- states and ATS ------------------------------------------------------------------------------------------

def _state(key: tuple[date, str, str], stock: dict, committed: int, rules: InventoryRules) -> dict:
    day, location, sku = key
    reserved = rules.reserved_on(day, location, sku)
    safety = rules.safety_stock_for(location, sku)
    if stock["state_source"] == "unknown":
        available = 0
    else:
        available = max(0, stock["on_hand"] - committed - reserved - stock["damaged"] - stock["quality_control"]
                        - safety)
    return {"business_date": day, "location_id": location, "sku": sku, **stock, "committed": committed,
            "reserved": reserved, "safety_stock": safety, "available": available}


def _available_to_sell(world: World, states: dict, rules: InventoryRules) -> tuple[dict, dict]:
    """ATS per channel and fulfilling location, and per channel across its network (the buffer held back once)."""
    ats, by_channel = {}, {}
    for channel_id, locations in sorted(rules.fulfilling_locations.items()):
        rule = rules.channels.get(channel_id)
        if rule is None:  # a channel without rules is not sold from here
            continue
        for day in world.business_days:
            for item in world.catalog:
                network = 0
                for location in locations:
                    available = states[(day, location, item.sku)]["available"]
                    network += available
                    ats[(day, channel_id, location, item.sku)] = {
                        "business_date": day, "channel_id": channel_id, "location_id": location, "sku": item.sku,
                        "available": available, "available_to_sell": after_buffer(available, rule)}
                by_channel[(day, channel_id, item.sku)] = {
                    "business_date": day, "channel_id": channel_id, "sku": item.sku, "available": network,
                    "locations": len(locations), "available_to_sell": after_buffer(network, rule),
                    "publish_to": rule.publish_to or None}
    return ats, by_channel


# --- oversells: sold what the channel had last been told it did not have -------------------------------------

def _oversells(world: World, by_channel: dict, rules: InventoryRules, window: set[date],
               lost_order_lines: frozenset[tuple[str, str]]) -> list[dict]:
    """Order lines (per order and SKU) of a published channel placed on D whose network ATS at the end of D - 1
    was zero. The first day has no day before it, so it is not judged."""
    published = {c for c, rule in rules.channels.items() if rule.publish_to}
    oversells = []
    for order in world.orders:
        if order.channel not in published:
            continue
        placed = _order_day(world, order.at)
        told_on = placed - timedelta(days=1)
        if told_on not in window:
            continue
        for sku, units in _ordered_units(order, lost_order_lines).items():
            told = by_channel.get((told_on, order.channel, sku))
            if told is not None and told["available_to_sell"] == 0:
                oversells.append({"channel_id": order.channel, "order_id": order.order_id, "sku": sku,
                                  "quantity": units, "business_date": placed,
                                  "ats_before": told["available_to_sell"]})
    return oversells


# --- calendar ------------------------------------------------------------------------------------------------

def _zone(world: World, location: str) -> ZoneInfo:
    return ZoneInfo(world.location(location).time_zone)


def _local_day(world: World, utc_text: str, location: str) -> date:
    return datetime.fromisoformat(utc_text.replace("Z", "+00:00")).astimezone(_zone(world, location)).date()


def _order_day(world: World, at: datetime) -> date:
    """An order's business date: its day in the legal entity's time zone."""
    return at.astimezone(ZoneInfo(world.legal_entities[0].time_zone)).date()


def _json(row: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}
