"""The COGS journals' ground truth: store and warehouse movements valued at the ERP item cost."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from connectors.sandbox.cogs_journals import cogs_journal_truth
from connectors.sandbox.simulator import SandboxConfig, simulate
from connectors.sandbox.world import CATALOG, World, cents

CONFIG = SandboxConfig(seed=5, days=4, orders_per_day=40, anomaly_rate=0.1)
COST = {item.sku: item.unit_cost for item in CATALOG}


@pytest.fixture(scope="module")
def sandbox():
    return simulate(CONFIG)


def _event(kind: str, quantity: int, sku: str, location: str, occurred_at: str, reason: str | None = None) -> dict:
    return {"type": kind, "quantity": quantity, "sku": sku, "location": location, "occurred_at": occurred_at,
            "reason": reason}


def _truth(events: list[dict]) -> list[dict]:
    world = World(seed=1, start_date=date(2026, 11, 2), days=3)
    return cogs_journal_truth(world, SimpleNamespace(events_in_window=lambda _world: events))


def _local_date(event: dict, world: World) -> date:
    moment = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(world.location(event["location"]).time_zone)).date()


def test_every_journal_balances_and_is_not_zero(sandbox):
    journals = sandbox.ground_truth["cogs_journals"]
    assert journals
    for journal in journals:
        assert set(journal["accounts"]) == {"5000", "1300"}
        assert Decimal(journal["accounts"]["5000"]) == -Decimal(journal["accounts"]["1300"]) != 0
        assert journal["legal_entity_id"] == sandbox.world.location(journal["location_id"]).legal_entity_id
        assert journal["currency"] == "USD"
    keys = [(j["business_date"], j["location_id"]) for j in journals]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_totals_equal_ships_less_restocked_returns_at_item_cost(sandbox):
    world, wms = sandbox.world, sandbox.channels["wms"]
    expected: dict[tuple[str, str], Decimal] = {}
    for event in wms.events_in_window(world):
        units = {"ship": -event["quantity"]}.get(event["type"], 0)
        if event["type"] == "return_receipt" and event["reason"] == "customer return":
            units = -event["quantity"]
        if units:
            key = (_local_date(event, world).isoformat(), event["location"])
            expected[key] = expected.get(key, Decimal("0")) + COST[event["sku"]] * units
    got = {(j["business_date"], j["location_id"]): Decimal(j["accounts"]["5000"])
           for j in sandbox.ground_truth["cogs_journals"]}
    assert got == {key: cents(amount) for key, amount in expected.items() if cents(amount)}
    # the ERP serves the same item cost the journals use
    assert {i["sku"]: Decimal(i["unitCost"]) for i in sandbox.channels["erp"].items} == COST


def test_restocked_return_reduces_cogs_and_damaged_one_does_not():
    ship = _event("ship", -3, "HOOD-GRY-M", "WH-NJ", "2026-11-02T15:00:00Z")
    restocked = _event("return_receipt", 1, "HOOD-GRY-M", "WH-NJ", "2026-11-02T16:00:00Z", "customer return")
    damaged = _event("return_receipt", 1, "HOOD-GRY-M", "WH-NJ", "2026-11-02T17:00:00Z", "customer return, damaged")
    assert _truth([ship])[0]["accounts"] == {"5000": "69.30", "1300": "-69.30"}
    assert _truth([ship, restocked])[0]["accounts"] == {"5000": "46.20", "1300": "-46.20"}
    assert _truth([ship, damaged])[0]["accounts"] == {"5000": "69.30", "1300": "-69.30"}
    # a day with only a restocked return credits COGS; other movements are not COGS, and a zero net is left out
    only_return = _truth([restocked])
    assert only_return[0]["accounts"] == {"5000": "-23.10", "1300": "23.10"}
    others = [_event("receipt", 48, "CAP-NVY", "WH-NJ", "2026-11-02T14:00:00Z"),
              _event("transfer_out", -6, "CAP-NVY", "WH-NJ", "2026-11-02T20:00:00Z"),
              _event("damage", -1, "CAP-NVY", "WH-NJ", "2026-11-02T18:00:00Z", "damaged in handling"),
              _event("adjustment", 2, "CAP-NVY", "WH-NJ", "2026-11-02T12:00:00Z", "cycle count")]
    assert _truth(others + [damaged]) == []
    assert _truth([ship, {**ship, "quantity": 3, "type": "return_receipt", "reason": "customer return"}]) == []


def test_store_sales_post_at_the_store_on_its_local_date():
    # 21:30 in San Francisco on 2 November is 05:30 UTC on 3 November (and 00:30 in New York)
    late_sale = _event("ship", -1, "TEE-BLK-M", "ST-SFO", "2026-11-03T05:30:00Z")
    web_ship = _event("ship", -2, "TEE-BLK-M", "WH-NJ", "2026-11-03T05:30:00Z")
    journals = _truth([late_sale, web_ship])
    assert [(j["business_date"], j["location_id"], j["accounts"]["5000"]) for j in journals] == [
        ("2026-11-02", "ST-SFO", "7.80"), ("2026-11-03", "WH-NJ", "15.60")]
    assert journals[0] == {"legal_entity_id": "US01", "location_id": "ST-SFO", "business_date": "2026-11-02",
                           "currency": "USD", "accounts": {"5000": "7.80", "1300": "-7.80"}}


def test_store_sales_in_the_simulation_post_at_their_store(sandbox):
    world, wms = sandbox.world, sandbox.channels["wms"]
    store_days = {(_local_date(e, world).isoformat(), e["location"]) for e in wms.events_in_window(world)
                  if e["type"] == "ship" and e["location"].startswith("ST-")}
    journals = {(j["business_date"], j["location_id"]) for j in sandbox.ground_truth["cogs_journals"]}
    assert store_days and store_days <= journals


def test_rounding_is_half_up_after_summing_exact_costs():
    # a fractional cost rounds once, half up, on the sum: 3 x 5.135 = 15.405 -> 15.41 (not 15.40, not 3 x 5.14)
    world = World(seed=1, start_date=date(2026, 11, 2), days=3)
    world.catalog = tuple(item if item.sku != "CAP-NVY" else
                          type(item)(item.sku, item.title, item.price, Decimal("5.135"), item.tax_code, item.barcode)
                          for item in world.catalog)
    events = [_event("ship", -1, "CAP-NVY", "WH-NJ", "2026-11-02T15:00:00Z"),
              _event("ship", -1, "CAP-NVY", "WH-NJ", "2026-11-02T16:00:00Z"),
              _event("ship", -1, "CAP-NVY", "WH-NJ", "2026-11-02T17:00:00Z")]
    journals = cogs_journal_truth(world, SimpleNamespace(events_in_window=lambda _world: events))
    assert journals[0]["accounts"] == {"5000": "15.41", "1300": "-15.41"}


def test_deterministic(sandbox):
    again = simulate(CONFIG)
    assert again.ground_truth["cogs_journals"] == sandbox.ground_truth["cogs_journals"]
    assert cogs_journal_truth(sandbox.world, sandbox.channels["wms"]) == sandbox.ground_truth["cogs_journals"]
