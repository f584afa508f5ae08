"""Available-to-sell through Dagster on the sandbox, out to the channels' own APIs (loopback fakes of Shopify,
Amazon's Listings Items API and the marketplace's listing API): what lands there is the sandbox's ground truth,
a re-run pushes nothing, and a warehouse movement or a store sale of today reaches the channels in one
`ats_cycle` run."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from dagster import DagsterInstance

from connectors.sandbox.retailer import start_sandbox
from connectors.sandbox.simulator import SandboxConfig
from connectors.warehouse import connect
from orchestration import local_paths
from orchestration.demo import run_pipeline

CONFIG = SandboxConfig(seed=2, start_date=date(2026, 11, 2), days=2, orders_per_day=20, anomaly_rate=0.1)


@pytest.fixture
def sandbox(omnirecon_home, monkeypatch):
    monkeypatch.delenv("OMNIRECON_TARGET", raising=False)
    with start_sandbox(CONFIG, omnirecon_home / "sandbox", retry_after_seconds=0.05) as running:
        for key, value in running.env.items():
            monkeypatch.setenv(key, value)
        yield running


def _ats_cycle(instance):
    from orchestration.definitions import defs

    result = defs.resolve_job_def("ats_cycle").execute_in_process(instance=instance)
    assert result.success
    (materialization,) = [m for m in result.asset_materializations_for_node("inventory__ats_publication")]
    return {key: value.value for key, value in materialization.metadata.items()}


def _published(sandbox) -> dict[tuple[str, str, str | None], int]:
    """What each channel now shows: Shopify per location, Amazon and the marketplace per SKU."""
    shopify, amazon, marketplace = sandbox.apis["shopify"], sandbox.apis["amazon"], sandbox.apis["marketplace"]
    shown = {}
    for item in sandbox.world.world.catalog:
        for location in ("WH-NJ", "ST-NYC"):
            shown[("shopify_web", item.sku, location)] = shopify.inventory_level(item.sku, location)
        shown[("amazon", item.sku, None)] = amazon.listing_quantity(item.sku)
        shown[("marketplace_bazaarly", item.sku, None)] = marketplace.quantity(item.sku)
    return shown


def _truth_on(sandbox, day: date) -> dict[tuple[str, str, str | None], int]:
    truth = sandbox.world.ground_truth["inventory"]
    wanted = {}
    for row in truth["ats"]:
        if row["business_date"] == day.isoformat() and row["channel_id"] == "shopify_web":
            wanted[("shopify_web", row["sku"], row["location_id"])] = row["available_to_sell"]
    for row in truth["ats_by_channel"]:
        if row["business_date"] == day.isoformat() and row["channel_id"] in ("amazon", "marketplace_bazaarly"):
            wanted[(row["channel_id"], row["sku"], None)] = row["available_to_sell"]
    return wanted


def _add_movement(sandbox, kind: str, location: str, sku: str, quantity: int, reference: str) -> None:
    """The 3PL reports a movement that happened a minute ago (today, after the sandbox's window)."""
    events = sandbox.world.channels["wms"].events
    at = datetime.now(timezone.utc) - timedelta(minutes=1)
    events.append({"event_id": f"MV-LIVE-{len(events) + 1:06d}", "sequence": len(events) + 1,
                   "occurred_at": at.isoformat().replace("+00:00", "Z"),
                   "recorded_at": at.isoformat().replace("+00:00", "Z"), "sku": sku, "location": location,
                   "type": kind, "quantity": quantity, "reference": reference, "reason": None})


def _pushes() -> int:
    with connect(str(local_paths.duckdb_path())) as warehouse:
        return warehouse.fetchall("select count(*) from outbound.ats_publications")[0][0]


def test_ats_reaches_every_channel_once_and_todays_movements_within_one_cycle(sandbox):
    instance = DagsterInstance.ephemeral()
    # the daily close publishes every position: the ATS of the window's last day, exactly the truth's
    assert run_pipeline(CONFIG, instance, log=lambda _: None).success
    shown = _published(sandbox)
    assert shown == _truth_on(sandbox, CONFIG.start_date + timedelta(days=CONFIG.days - 1))
    assert _pushes() == len(shown)
    assert 0 in shown.values(), "something is sold out: the test covers a zero reaching the channels"

    # a cycle with nothing new pushes nothing and records nothing; it reports the oversells
    again = _ats_cycle(instance)
    assert (again["pushed"], again["failed"], again["unchanged"]) == (0, 0, len(shown)) and _pushes() == len(shown)
    assert again["oversold_order_lines"] == len(sandbox.world.ground_truth["inventory"]["oversells"]) > 0

    # today opens with a cycle count at the Chicago store: today's position (yesterday's receipts out of
    # inspection, a reservation ended) reaches the channels
    _add_movement(sandbox, "adjustment", "ST-CHI", "CAP-NVY", 1, "CC-LIVE-ST-CHI")
    assert _ats_cycle(instance)["failed"] == 0
    opened = _published(sandbox)
    pushes = _pushes()

    # then the 3PL counts 12 more of a SKU at the warehouse, and the SoHo store sells one of another
    counted = max((key for key in opened if key[0] == "shopify_web" and key[2] == "WH-NJ"), key=opened.get)
    sold = max((key for key in opened if key[0] == "shopify_web" and key[2] == "ST-NYC"), key=opened.get)
    assert opened[counted] > 0 and opened[sold] > 0
    _add_movement(sandbox, "adjustment", "WH-NJ", counted[1], 12, "CC-LIVE-WH-NJ")
    _add_movement(sandbox, "ship", "ST-NYC", sold[1], -1, "LIVE-POS-SALE-1")
    cycle = _ats_cycle(instance)
    after = _published(sandbox)
    assert after[counted] == opened[counted] + 12 and after[sold] == opened[sold] - 1
    # the warehouse's count reaches the network channels too; nothing else moved
    changed = {key for key in after if after[key] != opened[key]}
    assert changed >= {counted, sold} and {key[1] for key in changed} == {counted[1], sold[1]}
    assert cycle["pushed"] == len(changed) and _pushes() == pushes + len(changed)
