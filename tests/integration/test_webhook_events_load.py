"""The webhook events' load lists only the event store's day folders changed since the last load, and its
sensor asks for a run whenever an event is stored, without listing every event ever stored."""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone

import pytest
from dagster import build_sensor_context, materialize

from connectors.webhooks.event_store import EventStore, WebhookEvent
from orchestration import local_paths
from orchestration.defs.webhooks.definitions import webhook_events, webhook_events_stored
from orchestration.resources import WarehouseResource


def _store(store: EventStore, order_id: int, day: int) -> None:
    """A Shopify orders/delete webhook (its body is the order id) received on 2026-11-<day>."""
    assert store.store(WebhookEvent(
        vendor="shopify", event_id=f"orders-delete-{order_id}", topic="orders/delete",
        received_at=datetime(2026, 11, day, 14, 5, tzinfo=timezone.utc), body=json.dumps({"id": order_id}),
        request_path="/webhooks/shopify", headers={"X-Shopify-Topic": "orders/delete"}))


def _age(store: EventStore, seconds: int) -> None:
    """Every day folder last changed `seconds` ago: days that have ended, long loaded."""
    then = time.time_ns() - seconds * 1_000_000_000
    for folder in store.day_folders():
        os.utime(folder, ns=(then, then))


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_resource(request, omnirecon_home):
    if request.param == "postgres":
        request.getfixturevalue("postgres_database")  # the OMNIRECON_PG_* variables name it
        return WarehouseResource(target="postgres")
    return WarehouseResource(duckdb_path=str(omnirecon_home / "warehouse.duckdb"))


def _load(resource: WarehouseResource) -> dict:
    result = materialize([webhook_events], resources={"warehouse": resource})
    assert result.success
    [loaded, _] = result.asset_materializations_for_node("webhook_events")
    return {key: value.value for key, value in loaded.metadata.items()}


def _events(resource: WarehouseResource) -> list[str]:
    with resource.connect() as wh:
        return sorted(event_id for (event_id,) in wh.fetchall("select event_id from raw_webhooks.events"))


def test_a_load_lists_only_the_day_folders_changed_since_the_last_one(warehouse_resource, monkeypatch):
    store = EventStore(local_paths.landing_root())
    for day in (2, 3, 4):
        _store(store, 100 + day, day)
    assert _load(warehouse_resource)["events_loaded"] == 3  # the first load lists every folder
    _age(store, 3600)

    listed, changed_since = [], EventStore.folders_changed_since

    def folders_changed_since(self, listed_at_ns):
        folders = changed_since(self, listed_at_ns)
        listed.extend(folders)
        return folders

    monkeypatch.setattr(EventStore, "folders_changed_since", folders_changed_since)
    _store(store, 205, 5)  # today's first event
    _store(store, 203, 3)  # and a delivery late into an old day's folder (a retry, a replayed backlog)
    assert _load(warehouse_resource)["events_loaded"] == 2
    assert sorted(folder.name for folder in listed) == ["2026-11-03", "2026-11-05"]
    assert _events(warehouse_resource) == [f"orders-delete-{n}" for n in (102, 103, 104, 203, 205)]

    listed.clear()
    _age(store, 60)
    assert _load(warehouse_resource)["events_loaded"] == 0 and listed == []  # nothing new: nothing listed


def test_a_new_warehouse_loads_every_stored_event(omnirecon_home, tmp_path):
    store = EventStore(local_paths.landing_root())
    for day in (2, 3):
        _store(store, 100 + day, day)
    first = WarehouseResource(duckdb_path=str(tmp_path / "first.duckdb"))
    assert _load(first)["events_loaded"] == 2
    _age(store, 3600)
    second = WarehouseResource(duckdb_path=str(tmp_path / "second.duckdb"))  # its own listing: none yet
    assert _load(second)["events_loaded"] == 2


def test_the_sensor_asks_for_a_run_when_an_event_is_stored_and_only_then(omnirecon_home):
    store = EventStore(local_paths.landing_root())

    def run_key():
        result = webhook_events_stored(build_sensor_context())
        return getattr(result, "run_key", None)

    assert run_key() is None  # nothing stored yet: skipped
    _store(store, 1, 2)
    first = run_key()
    assert first and run_key() == first
    _store(store, 2, 2)
    second = run_key()
    assert second not in (None, first) and run_key() == second
    # Within one tick of a coarse file-system clock a second file leaves the folder's time as it was: the
    # folder's count of events still tells.
    folder = store.day_folders()[0]
    stat = folder.stat()
    _store(store, 3, 2)
    os.utime(folder, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert run_key() not in (None, first, second)


def test_a_replay_that_fails_after_forgetting_the_loaded_events_leaves_them_for_the_next_load(
        warehouse_resource, monkeypatch):
    from connectors import raw_load
    from connectors.landing_zone import LandingZone
    from orchestration.raw_replay import reload_raw_tables

    store = EventStore(local_paths.landing_root())
    for day in (2, 3):
        _store(store, 100 + day, day)
    assert _load(warehouse_resource)["events_loaded"] == 2
    _age(store, 3600)

    def crash(*args, **kwargs):
        raise RuntimeError("the replay's reload died")

    with monkeypatch.context() as patched, warehouse_resource.connect() as wh, \
            pytest.raises(RuntimeError, match="reload died"):
        patched.setattr(raw_load, "load_landed_files", crash)
        reload_raw_tables(wh, LandingZone(local_paths.landing_root()), ["2026-11-03"])
    assert _events(warehouse_resource) == ["orders-delete-102"]
    assert _load(warehouse_resource)["events_loaded"] == 1  # every folder listed again: the day's event is back
    assert _events(warehouse_resource) == ["orders-delete-102", "orders-delete-103"]
