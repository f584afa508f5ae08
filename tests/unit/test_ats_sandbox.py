"""The sandbox's inventory truth: stock states, ATS per channel and oversells follow docs/inventory.md, and
scarce SKUs at the warehouse make channels oversell."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.sandbox.available_to_sell import ats_truth, load_rules
from connectors.sandbox.channels import wms
from connectors.sandbox.channels.wms import SnapshotLine, WmsSandbox
from connectors.sandbox.simulator import SandboxConfig, simulate
from connectors.sandbox.world import CATALOG, STORES, WAREHOUSE, ChannelOrder, SoldLine, StockMovement, World

START = date(2026, 11, 2)
NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def scarce_run():
    """A run with so many anomalies that most SKUs are scarce at the warehouse."""
    return simulate(SandboxConfig(seed=2, days=4, anomaly_rate=0.3))


def test_ats_is_never_negative_and_unknown_stock_sells_nothing(scarce_run):
    inventory = scarce_run.ground_truth["inventory"]
    assert all(row["available"] >= 0 for row in inventory["states"])
    assert all(row["available"] == 0 for row in inventory["states"] if row["state_source"] == "unknown")
    for row in inventory["ats"] + inventory["ats_by_channel"]:
        assert isinstance(row["available_to_sell"], int) and 0 <= row["available_to_sell"] <= row["available"]


def test_every_day_location_and_sku_has_a_state():
    world = simulate(SandboxConfig(days=2, malformed_rate=0.2))
    states = world.ground_truth["inventory"]["states"]
    assert len(states) == 2 * len(world.world.locations) * len(world.world.catalog)
    assert {row["state_source"] for row in states} <= {"snapshot", "rolled_forward", "unknown"}
    assert "rolled_forward" in {row["state_source"] for row in states}


def test_network_ats_is_the_rule_over_the_sum_of_what_the_locations_have(scarce_run):
    rules = load_rules()
    inventory = scarce_run.ground_truth["inventory"]
    available = {(r["business_date"], r["location_id"], r["sku"]): r["available"] for r in inventory["states"]}
    for row in inventory["ats_by_channel"]:
        rule = rules.channels[row["channel_id"]]
        total = sum(available[(row["business_date"], location, row["sku"])]
                    for location in rules.fulfilling_locations[row["channel_id"]])
        assert row["available"] == total
        assert row["available_to_sell"] == max(0, total * (100 - rule.buffer_percent) // 100 - rule.buffer_units)


def test_scarce_skus_oversell_and_every_oversell_had_no_ats_the_day_before(scarce_run):
    inventory = scarce_run.ground_truth["inventory"]
    assert scarce_run.channels["wms"].scarce_skus
    assert inventory["oversells"]
    told = {(r["business_date"], r["channel_id"], r["sku"]): r for r in inventory["ats_by_channel"]}
    days = {d.isoformat() for d in scarce_run.world.business_days}
    for oversell in inventory["oversells"]:
        day_before = (date.fromisoformat(oversell["business_date"]) - timedelta(days=1)).isoformat()
        assert day_before in days
        network = told[(day_before, oversell["channel_id"], oversell["sku"])]
        assert network["available_to_sell"] == oversell["ats_before"] == 0 and network["publish_to"]
    # a voided (cancelled) Amazon order is not in world.orders, so it is never an oversell
    remembered = {o.order_id for o in scarce_run.world.orders}
    assert {o["order_id"] for o in inventory["oversells"]} <= remembered


def test_nothing_is_scarce_without_anomalies_and_scarcity_draws_on_its_own_stream():
    calm = wms.simulate(World(seed=3, start_date=START, days=3, anomaly_rate=0.0))
    assert calm.scarce_skus == set()
    scarce = wms.simulate(World(seed=3, start_date=START, days=3, anomaly_rate=0.3))
    assert scarce.scarce_skus
    for (location, sku), units in calm.opening_stock.items():
        if location == WAREHOUSE.code and sku in scarce.scarce_skus:
            assert scarce.opening_stock[(location, sku)] < units
        else:
            assert scarce.opening_stock[(location, sku)] == units
    assert calm.events == scarce.events


def test_the_truth_is_deterministic():
    config = SandboxConfig(seed=4, days=3, anomaly_rate=0.2)
    assert simulate(config).ground_truth["inventory"] == simulate(config).ground_truth["inventory"]


# --- a tiny hand-built world: two days, the warehouse and one store, two SKUs ---------------------------------

TEE, JACKET = CATALOG[0], CATALOG[5]  # TEE-BLK-M, JKT-RAIN-S
SEEDS = {
    "ats_channel_rules": "channel_id,fulfilled_at_sale,buffer_percent,buffer_units,publish_to\n"
                         "shopify_web,false,0,0,shopify_inventory_levels\namazon,false,10,2,amazon_listings\n"
                         "pos,true,0,0,\n",
    "ats_channel_locations": "channel_id,location_id\nshopify_web,WH-NJ\nshopify_web,ST-NYC\namazon,WH-NJ\n"
                             "pos,ST-NYC\n",
    # the default, the warehouse, the jacket anywhere, the jacket at the warehouse
    "safety_stock": "sku,location_id,units\n,,2\n,WH-NJ,5\nJKT-RAIN-S,,3\nJKT-RAIN-S,WH-NJ,8\n",
    "inventory_reservations": "reservation_id,sku,location_id,units,reserved_from,reserved_until,reason\n"
                              "RSV-1,TEE-BLK-M,WH-NJ,3,2026-11-03,,wholesale\n"
                              "RSV-2,TEE-BLK-M,ST-NYC,9,2026-10-01,2026-11-01,expired before the window\n",
}


def _at(day: int, hour: int) -> datetime:
    return datetime.combine(START + timedelta(days=day), time(hour), tzinfo=NY)


def _snapshot(day: int, location: str, sku: str, on_hand: int, damaged: int = 0) -> SnapshotLine:
    return SnapshotLine(START + timedelta(days=day), _at(day, 23), location, sku, on_hand, on_hand - damaged, 0,
                        damaged, 0, 0, 0)


def _order(channel: str, order_id: str, location: str, sku: str, units: int, at: datetime) -> ChannelOrder:
    return ChannelOrder(channel, order_id, order_id, location, 1, at, "USD",
                        [SoldLine(f"{order_id}-1", sku, units, Decimal("10"), Decimal("0"), Decimal("0"))])


@pytest.fixture
def tiny(tmp_path):
    for name, text in SEEDS.items():
        (tmp_path / f"{name}.csv").write_text(text)
    world = World(seed=1, start_date=START, days=2, catalog=(TEE, JACKET),
                  locations=(WAREHOUSE, STORES[0]))  # STORES[0] is ST-NYC
    world.orders = [
        _order("amazon", "A1", "WH-NJ", TEE.sku, 4, _at(0, 10)),  # shipped the next morning
        _order("amazon", "A2", "WH-NJ", JACKET.sku, 1, _at(1, 11)),  # no jacket to sell the day before
        _order("pos", "P1", "ST-NYC", TEE.sku, 2, _at(0, 12)),  # leaves with the customer
    ]
    movements = [StockMovement(TEE.sku, "WH-NJ", "ship", -4, _at(1, 9), "A1"),
                 StockMovement(TEE.sku, "WH-NJ", "receipt", 24, _at(1, 10), "PO-1"),
                 StockMovement(TEE.sku, "WH-NJ", "return_receipt", 1, _at(1, 14), "web-9"),
                 StockMovement(TEE.sku, "ST-NYC", "ship", -2, _at(0, 12), "P1")]
    reasons = [None, None, "customer return, damaged", None]
    events = [{"event_id": f"MV-{n}", "sequence": n, "occurred_at": m.at.isoformat(), "sku": m.sku,
               "location": m.location, "type": m.kind, "quantity": m.quantity, "reference": m.reference,
               "reason": reason} for n, (m, reason) in enumerate(zip(movements, reasons), start=1)]
    snapshots = [_snapshot(0, "WH-NJ", TEE.sku, 100), _snapshot(0, "WH-NJ", JACKET.sku, 10),
                 _snapshot(0, "ST-NYC", TEE.sku, 28), _snapshot(0, "ST-NYC", JACKET.sku, 5),
                 _snapshot(1, "WH-NJ", TEE.sku, 121, damaged=1), _snapshot(1, "WH-NJ", JACKET.sku, 10),
                 _snapshot(1, "ST-NYC", TEE.sku, 28), _snapshot(1, "ST-NYC", JACKET.sku, 5)]
    sandbox = WmsSandbox({}, movements, events, snapshots,
                         malformed={(START, "ST-NYC", JACKET.sku), (START + timedelta(days=1), "WH-NJ", TEE.sku)})
    return ats_truth(world, sandbox, load_rules(tmp_path))


def _row(rows: list[dict], **keys) -> dict:
    (row,) = [r for r in rows if all(r[k] == v for k, v in keys.items())]
    return row


def test_safety_stock_falls_back_from_the_most_specific_row(tiny):
    day = START.isoformat()
    assert _row(tiny["states"], business_date=day, location_id="WH-NJ", sku=JACKET.sku)["safety_stock"] == 8
    assert _row(tiny["states"], business_date=day, location_id="ST-NYC", sku=JACKET.sku)["safety_stock"] == 3
    assert _row(tiny["states"], business_date=day, location_id="WH-NJ", sku=TEE.sku)["safety_stock"] == 5
    assert _row(tiny["states"], business_date=day, location_id="ST-NYC", sku=TEE.sku)["safety_stock"] == 2


def test_committed_reserved_and_available_on_a_snapshot_day(tiny):
    first = START.isoformat()
    tee = _row(tiny["states"], business_date=first, location_id="WH-NJ", sku=TEE.sku)
    # A1 is placed but ships tomorrow; the reservation starts tomorrow
    assert (tee["state_source"], tee["committed"], tee["reserved"], tee["available"]) == ("snapshot", 4, 0, 91)
    store_tee = _row(tiny["states"], business_date=first, location_id="ST-NYC", sku=TEE.sku)
    assert (store_tee["committed"], store_tee["reserved"], store_tee["available"]) == (0, 0, 26)  # a POS sale
    unknown = _row(tiny["states"], business_date=first, location_id="ST-NYC", sku=JACKET.sku)
    assert (unknown["state_source"], unknown["on_hand"], unknown["available"]) == ("unknown", None, 0)


def test_a_malformed_row_is_rolled_forward_from_the_latest_good_one(tiny):
    tee = _row(tiny["states"], business_date=(START + timedelta(days=1)).isoformat(), location_id="WH-NJ",
               sku=TEE.sku)
    assert tee["state_source"] == "rolled_forward" and tee["snapshot_date"] == START.isoformat()
    # 100 - 4 shipped + 24 received + 1 returned damaged; today's receipt is still in inspection
    assert (tee["on_hand"], tee["quality_control"], tee["damaged"]) == (121, 24, 1)
    assert (tee["committed"], tee["reserved"], tee["safety_stock"]) == (0, 3, 5)
    assert tee["available"] == 121 - 3 - 1 - 24 - 5


def test_the_buffer_is_rounded_in_its_favour_and_held_back_once_per_network(tiny):
    first = START.isoformat()
    # amazon: floor(91 * 90 / 100) = 81, less 2 units
    assert _row(tiny["ats"], business_date=first, channel_id="amazon", location_id="WH-NJ",
                sku=TEE.sku)["available_to_sell"] == 79
    web = _row(tiny["ats_by_channel"], business_date=first, channel_id="shopify_web", sku=TEE.sku)
    assert (web["available"], web["available_to_sell"]) == (91 + 26, 117)
    # the jacket: 2 available at the warehouse, floor(1.8) - 2 -> never below zero
    jacket = _row(tiny["ats_by_channel"], business_date=first, channel_id="amazon", sku=JACKET.sku)
    assert (jacket["available"], jacket["available_to_sell"]) == (2, 0)


def test_an_order_for_a_sku_without_ats_the_day_before_is_an_oversell(tiny):
    assert tiny["oversells"] == [{"channel_id": "amazon", "order_id": "A2", "sku": JACKET.sku, "quantity": 1,
                                  "business_date": (START + timedelta(days=1)).isoformat(), "ats_before": 0}]
