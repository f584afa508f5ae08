"""The WMS connector against the fake WMS API on loopback: real HTTP, no mocks.

Covers the cursor-paged movement feed and its day windows, level paging, bad and forbidden keys
(never echoed), 429 + Retry-After and 5xx retries, a daily pull that dies half-way and resumes at
its saved page, and the raw load of the feed, the levels and the snapshot files into DuckDB.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from connectors import raw_load
from connectors.landing_zone import LandingZone, read_landed
from connectors.sandbox.channels import wms
from connectors.sandbox.wms_api import FakeWmsAPI
from connectors.sandbox.world import WAREHOUSE, StockMovement, World
from connectors.shopify.extract import CursorStore
from connectors.warehouse import connect
from connectors.wms import raw_tables
from connectors.wms.client import WmsAPIError, WmsClient
from connectors.wms.daily_pull import movements_key, pull_business_day, pull_inventory_levels

KEY = "wms_pat_5f3c0ffee0123456789"
NY = "America/New_York"
START = date(2026, 11, 2)


def _world(**options) -> World:
    world = World(seed=3, start_date=START, days=3, **options)
    zone = ZoneInfo(NY)
    for n in range(30):  # web ships at the warehouse, as the Shopify channel would leave them
        at = datetime.combine(START + timedelta(days=n % 3), time(9 + n % 12, n % 60), tzinfo=zone)
        world.stock_movements.append(StockMovement("TEE-WHT-L", WAREHOUSE.code, "ship", -1, at, f"web-{n}"))
    # shipped after the window ends in New York: served by the feed, not part of the window's ground truth
    world.stock_movements.append(StockMovement("TEE-WHT-L", WAREHOUSE.code, "ship", -1,
                                               datetime(2026, 11, 5, 1, 30, tzinfo=zone), "web-late"))
    return world


@pytest.fixture
def world() -> World:
    return _world()


@pytest.fixture
def sandbox(world):
    return wms.simulate(world)


@pytest.fixture
def api(sandbox):
    with FakeWmsAPI(sandbox, KEY, forbidden_keys=("wms_pat_readonly_orders",)) as running:
        yield running


def _client(api, key: str = KEY, **options) -> WmsClient:
    return WmsClient(api.base_url + "/2.0", key, **{"backoff_seconds": 0.001, "max_retries": 3, "timeout": 5,
                                                    **options})


def test_the_movement_feed_pages_along_its_cursor_in_sequence_order(api, sandbox):
    pages = list(_client(api).movement_pages(limit=7))
    assert [r["event_id"] for p in pages for r in p.records] == [e["event_id"] for e in sandbox.events]
    assert len(pages) == -(-len(sandbox.events) // 7)
    assert all("since_cursor=" in p.next_url for p in pages[:-1]) and pages[-1].next_url is None
    assert all(r.path == "/2.0/inventory/movements" and r.status == 200 for r in api.request_log)


def test_a_day_window_holds_the_events_that_occurred_in_that_local_day(api, sandbox):
    zone = ZoneInfo(NY)
    start = datetime.combine(date(2026, 11, 3), time(0), tzinfo=zone)
    events = _client(api).movements(occurred_at_min=start, occurred_at_max=start + timedelta(days=1), limit=5)
    expected = [e for e in sandbox.events
                if start <= datetime.fromisoformat(e["occurred_at"]) < start + timedelta(days=1)]
    assert events == expected and len(events) > 5


def test_levels_page_by_page_number_and_filter_by_location(api, sandbox):
    levels = _client(api).inventory_levels(limit=15)
    assert levels == sandbox.levels
    assert [r.query.get("page") for r in api.request_log] == ["1", "2", "3"]
    store = _client(api).inventory_levels(location="ST-SFO")
    assert {level["location"] for level in store} == {"ST-SFO"} and len(store) == 10


def test_a_bad_or_missing_key_is_401_and_a_key_without_the_scope_403_never_echoed(api):
    with pytest.raises(WmsAPIError) as rejected:
        _client(api, "wms_pat_wrong_key_0000").movements()
    assert rejected.value.status == 401 and "rejected the API key" in str(rejected.value)
    assert "wms_pat_wrong_key_0000" not in str(rejected.value) + rejected.value.body
    with pytest.raises(WmsAPIError) as forbidden:
        _client(api, "wms_pat_readonly_orders").inventory_levels()
    assert forbidden.value.status == 403 and "inventory_read" in forbidden.value.body
    assert KEY not in repr(_client(api))
    with pytest.raises(ValueError):
        WmsClient(api.base_url, "")


def test_429_waits_retry_after_and_5xx_is_retried_until_it_gives_up(api, sandbox, caplog):
    api.fail_next(2, 429, retry_after=0.01)
    with caplog.at_level(logging.WARNING):
        assert len(_client(api).movements()) == len(sandbox.events)
    assert [r.status for r in api.request_log[:3]] == [429, 429, 200]
    assert "HTTP 429" in caplog.text and "0.01s" in caplog.text and KEY not in caplog.text
    api.fail_next(4, 503)
    with pytest.raises(WmsAPIError) as outage:
        _client(api).movements()
    assert outage.value.status == 503 and "after 3 retries" in str(outage.value)


def test_the_daily_pull_resumes_at_the_saved_page_after_dying_and_a_replay_pulls_afresh(api, sandbox, tmp_path):
    landing, cursors = LandingZone(tmp_path / "landing"), CursorStore(tmp_path / "state" / "wms_cursors.json")
    day = date(2026, 11, 3)
    client = _client(api, max_retries=0)
    api.fail_next(1, 500, after=2)  # pages 1 and 2 arrive, page 3 fails for good
    with pytest.raises(WmsAPIError):
        pull_business_day(client, landing, cursors, day=day, time_zone=NY, log=lambda _: None, limit=4)
    saved = cursors.get(movements_key(day))
    assert saved.pages_done == 2 and "since_cursor=" in saved.next_url
    requests_before = len(api.request_log)
    report = pull_business_day(client, landing, cursors, day=day, time_zone=NY, log=lambda _: None, limit=4)
    resumed = api.request_log[requests_before:]
    assert "since_cursor" in resumed[0].query  # not page one again
    landed = [r for p in landing.files("wms", "movements", "2026-11-03") for r in read_landed(p).records]
    expected = [e for e in sandbox.events if datetime.fromisoformat(e["occurred_at"]).astimezone(ZoneInfo(NY)).date()
                == day]
    assert [r["event_id"] for r in landed] == [e["event_id"] for e in expected]
    assert report.records["movements"] == len(expected) - 8
    assert cursors.all() == {}  # finished: a replay starts afresh
    replay = pull_business_day(client, landing, cursors, day=day, time_zone=NY, log=lambda _: None, limit=4)
    assert replay.records["movements"] == len(expected)


def test_what_the_sandbox_serves_and_drops_loads_into_raw_wms_idempotently(tmp_path, monkeypatch):
    world = _world(malformed_rate=0.1)
    sandbox = wms.simulate(world)
    monkeypatch.setitem(raw_load.RAW_SOURCES, "wms", raw_tables)
    landing, cursors = LandingZone(tmp_path / "landing"), CursorStore(tmp_path / "state" / "wms_cursors.json")
    with FakeWmsAPI(sandbox, KEY) as api:
        client = _client(api)
        for day in world.business_days:
            pull_business_day(client, landing, cursors, day=day, time_zone=NY, log=lambda _: None, limit=9)
        pull_inventory_levels(client, landing, partition="2026-11-04", log=lambda _: None)
        pull_inventory_levels(client, landing, partition="2026-11-05", log=lambda _: None)  # the same levels again
    for path in wms.drop_files(sandbox, tmp_path / "inbox"):
        landing.land_file("wms", "inventory_snapshots", path.stem.rsplit("_", 1)[1], path)
    files = landing.files("wms") + landing.files("wms", suffix=".csv")
    truth = world.records["wms"]
    with connect(str(tmp_path / "w.duckdb")) as warehouse:
        first = raw_load.load_landed_files(warehouse, files, source="wms")
        for table, key in raw_tables.RECORD_KEYS.items():
            (distinct,), = warehouse.fetchall(f"select count(distinct {key}) from raw_wms.{table}")
            assert distinct == truth[table], table
        (levels,), = warehouse.fetchall("select count(*) from raw_wms.inventory_levels")
        assert levels == truth["inventory_levels"]  # a level pulled twice is one row
        reasons = warehouse.fetchall("select reason from raw_wms._quarantine")
        assert len(reasons) == truth["_quarantine"] == first.quarantined > 0
        assert all(r for (r,) in reasons)
        (qty,), = warehouse.fetchall("select sum(quantity) from raw_wms.movements")
        assert qty == sum(e["quantity"] for e in sandbox.events_in_window(world))
        before = warehouse.fetchall("select count(*) from raw_wms.movements")
        again = raw_load.load_landed_files(warehouse, files, source="wms")
        assert again.files_loaded == 0 and again.files_skipped == len(files)
        assert warehouse.fetchall("select count(*) from raw_wms.movements") == before
