"""The Square connector against the fake Square API on loopback: real HTTP, no mocks.

Covers cursor paging of the orders search (POST) and the payments/refunds lists, the location and
time filters, each store's own business-day window, throttling (429 + Retry-After) and outages,
credentials that never leak, Square's 400s, and a daily pull that dies and resumes where it stopped.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timezone

import pytest
import requests

from connectors.landing_zone import LandingZone, read_landed
from connectors.sandbox.channels import pos
from connectors.sandbox.square_api import FakeSquareAPI
from connectors.sandbox.world import World
from connectors.shopify.extract import CursorStore
from connectors.square.client import SquareAPIError, SquareClient
from connectors.square.daily_pull import local_day_window, pull_business_day

TOKEN = "EAAAl-fake-sandbox-token-0123456789abcdef"
DAY = date(2026, 11, 3)
WIDE = (datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 11, 6, tzinfo=timezone.utc))


@pytest.fixture(scope="module")
def world_and_sandbox():
    world = World(seed=11, start_date=date(2026, 11, 2), days=2)
    return world, pos.simulate(world)


@pytest.fixture
def api(world_and_sandbox):
    with FakeSquareAPI(world_and_sandbox[1], TOKEN) as running:
        yield running


def _client(api: FakeSquareAPI, token: str = TOKEN, **options) -> SquareClient:
    return SquareClient(api.base_url, token, **{"backoff_seconds": 0.001, "max_retries": 3, "timeout": 5, **options})


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_orders_search_pages_with_cursors_oldest_update_first(api, world_and_sandbox):
    _, sandbox = world_and_sandbox
    location = sandbox.location_ids["ST-CHI"]
    pages = list(_client(api).search_orders([location], *WIDE, limit=7))
    records = [o for page in pages for o in page.records]
    assert [len(p.records) for p in pages] == [7] * 7 + [1]  # 2 days x 25 tickets
    assert [p.cursor is None for p in pages] == [False] * 7 + [True]
    assert {o["location_id"] for o in records} == {location}
    assert len({o["id"] for o in records}) == 50
    stamps = [_at(o["updated_at"]) for o in records]
    assert stamps == sorted(stamps)
    first, second, *_ = (r for r in api.request_log if r.path == "/v2/orders/search")
    assert first.method == "POST" and "cursor" not in first.body and second.body["cursor"] == pages[0].cursor
    assert first.body["query"]["sort"] == {"sort_field": "UPDATED_AT", "sort_order": "ASC"}
    assert first.square_version == "2026-07-15"


def test_the_orders_search_keeps_to_its_locations_and_updated_at_window(api, world_and_sandbox):
    _, sandbox = world_and_sandbox
    locations = [sandbox.location_ids["ST-NYC"], sandbox.location_ids["ST-SFO"]]
    start, end = datetime(2026, 11, 2, 18, tzinfo=timezone.utc), datetime(2026, 11, 3, 2, tzinfo=timezone.utc)
    got = {o["id"] for page in _client(api).search_orders(locations, start, end) for o in page.records}
    expected = {o["id"] for o in sandbox.orders if o["location_id"] in locations
                and start <= _at(o["updated_at"]) < end}
    assert got == expected and len(expected) > 10


def test_payments_and_refunds_list_by_location_and_created_window(api, world_and_sandbox):
    _, sandbox = world_and_sandbox
    location = sandbox.location_ids["ST-NYC"]
    start, end = local_day_window(DAY, "America/New_York")
    client = _client(api)
    pages = list(client.list_payments(location, start, end, limit=9))
    payments = [p for page in pages for p in page.records]
    expected = [p for p in sandbox.payments if p["location_id"] == location and start <= _at(p["created_at"]) < end]
    assert sorted(p["id"] for p in payments) == sorted(p["id"] for p in expected) and len(pages) > 2
    assert [_at(p["created_at"]) for p in payments] == sorted(_at(p["created_at"]) for p in payments)
    refunds = [r for page in client.list_refunds(location, *WIDE) for r in page.records]
    assert sorted(r["id"] for r in refunds) == sorted(r["id"] for r in sandbox.refunds
                                                       if r["location_id"] == location)
    query = next(r.query for r in api.request_log if r.path == "/v2/payments")
    assert query["begin_time"] == "2026-11-03T05:00:00Z" and query["end_time"] == "2026-11-04T05:00:00Z"


def test_locations_carry_the_store_time_zones(api, world_and_sandbox):
    _, sandbox = world_and_sandbox
    locations = _client(api).list_locations()
    assert {loc["id"]: loc["timezone"] for loc in locations} == {
        sandbox.location_ids["ST-NYC"]: "America/New_York", sandbox.location_ids["ST-CHI"]: "America/Chicago",
        sandbox.location_ids["ST-SFO"]: "America/Los_Angeles"}


def test_a_wrong_token_is_refused_and_never_repeated(api, caplog):
    wrong = "EAAAl-wrong-token-that-must-not-leak-42"
    client = _client(api, wrong)
    with caplog.at_level(logging.DEBUG), pytest.raises(SquareAPIError) as raised:
        client.list_locations()
    error = raised.value
    assert (error.status, error.category, error.code) == (401, "AUTHENTICATION_ERROR", "UNAUTHORIZED")
    assert wrong not in str(error) and wrong not in repr(client) and wrong not in caplog.text
    assert [r.status for r in api.request_log] == [401]  # a refusal is not retried


def test_a_token_without_the_payments_scope_gets_403(world_and_sandbox):
    with FakeSquareAPI(world_and_sandbox[1], TOKEN, scopes=frozenset({"ORDERS_READ"})) as limited:
        with pytest.raises(SquareAPIError) as raised:
            next(_client(limited).list_payments("L1", *WIDE))
    assert (raised.value.status, raised.value.code) == (403, "INSUFFICIENT_SCOPES")
    assert "permission" in str(raised.value)


def test_throttling_waits_retry_after_then_carries_on(api, world_and_sandbox):
    _, sandbox = world_and_sandbox
    api.fail_next(2, 429, retry_after=0.01)
    orders = [o for page in _client(api).search_orders([sandbox.location_ids["ST-SFO"]], *WIDE) for o in page.records]
    assert len(orders) == 50
    assert [r.status for r in api.request_log] == [429, 429, 200]
    api.fail_next(1, 429, retry_after=0.01)
    assert len(_client(api).list_locations()) == 3
    assert [r.status for r in api.request_log][-2:] == [429, 200]


def test_an_outage_longer_than_the_retries_fails_with_squares_error(api):
    api.fail_next(4, 503)
    with pytest.raises(SquareAPIError) as raised:
        _client(api).list_locations()
    assert raised.value.status == 503 and raised.value.category == "API_ERROR"
    assert "after 3 retries" in str(raised.value) and len(api.request_log) == 4


def test_a_cursor_only_works_with_the_request_that_made_it(api, world_and_sandbox):
    _, sandbox = world_and_sandbox
    location = sandbox.location_ids["ST-NYC"]
    client = _client(api)
    cursor = next(client.list_payments(location, *WIDE, limit=5)).cursor
    assert len(next(client.list_payments(location, *WIDE, limit=5, cursor=cursor)).records) == 5
    with pytest.raises(SquareAPIError) as raised:
        next(client.list_payments(sandbox.location_ids["ST-CHI"], *WIDE, cursor=cursor))
    assert (raised.value.status, raised.value.code) == (400, "INVALID_CURSOR")
    with pytest.raises(SquareAPIError, match="INVALID_CURSOR"):
        next(client.search_orders([location], *WIDE, cursor="not-a-cursor"))


def test_square_refuses_an_updated_at_filter_sorted_on_another_field(api):
    response = requests.post(f"{api.base_url}/v2/orders/search", headers={"Authorization": f"Bearer {TOKEN}"},
                             json={"location_ids": ["x"], "query": {}}, timeout=5)
    assert response.status_code == 403  # a location of another merchant
    location = api.sandbox.locations[0]["id"]
    response = requests.post(f"{api.base_url}/v2/orders/search", headers={"Authorization": f"Bearer {TOKEN}"},
                             json={"location_ids": [location], "query": {
                                 "filter": {"date_time_filter": {"updated_at": {"start_at": "2026-11-02T00:00:00Z"}}},
                                 "sort": {"sort_field": "CREATED_AT"}}}, timeout=5)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "query.sort.sort_field"


def test_the_client_needs_a_token_and_defaults_to_squares_production_endpoint():
    with pytest.raises(ValueError):
        SquareClient(access_token="")
    client = SquareClient(access_token=TOKEN)
    assert client.base_url == "https://connect.squareup.com" and TOKEN not in repr(client)


# ---- the daily pull ---------------------------------------------------------------------------

def _landed_ids(landing: LandingZone, stream: str) -> list[str]:
    return [r["id"] for path in landing.files("square", stream) for r in read_landed(path).records]


def test_a_business_day_is_each_stores_own_local_day(api, world_and_sandbox, tmp_path):
    _, sandbox = world_and_sandbox
    landing, cursors = LandingZone(tmp_path / "landing"), CursorStore(tmp_path / "cursors.json")
    report = pull_business_day(_client(api), landing, cursors, day=DAY, time_zone="America/New_York",
                               log=lambda _: None)
    windows = {r.query["location_id"]: r.query["begin_time"] for r in api.request_log if r.path == "/v2/payments"}
    assert windows == {sandbox.location_ids["ST-NYC"]: "2026-11-03T05:00:00Z",
                       sandbox.location_ids["ST-CHI"]: "2026-11-03T06:00:00Z",
                       sandbox.location_ids["ST-SFO"]: "2026-11-03T08:00:00Z"}
    assert report.records["orders"] == 75 and report.records["locations"] == 3
    assert sorted(_landed_ids(landing, "orders")) == sorted(
        o["id"] for o in sandbox.orders if "-20261103-" in o["reference_id"])  # receipts carry the local day
    assert {p.parent.name for p in landing.files("square")} == {"2026-11-03"}
    assert cursors.all() == {}


def test_a_pull_that_dies_resumes_at_the_saved_page(api, world_and_sandbox, tmp_path, monkeypatch):
    _, sandbox = world_and_sandbox
    client = _client(api, max_retries=1, orders_page_limit=10, list_page_limit=10)
    landing, cursors = LandingZone(tmp_path / "landing"), CursorStore(tmp_path / "cursors.json")
    first_location = sorted(sandbox.location_ids.values())[0]
    real_land = landing.land

    def land_then_break(source, stream, partition, records, **kw):
        path = real_land(source, stream, partition, records, **kw)
        if stream == "orders" and kw.get("page") == 2:
            api.fail_next(2, 503)  # down long enough to exhaust the one retry
        return path

    monkeypatch.setattr(landing, "land", land_then_break)
    with pytest.raises(SquareAPIError):
        pull_business_day(client, landing, cursors, day=DAY, time_zone="America/New_York", log=lambda _: None)
    saved = cursors.get(f"orders/{DAY}/{first_location}")
    assert saved.pages_done == 2 and saved.next_url and not saved.completed

    monkeypatch.setattr(landing, "land", real_land)
    before = len(api.request_log)
    pull_business_day(client, landing, cursors, day=DAY, time_zone="America/New_York", log=lambda _: None)
    resumed = [r for r in api.request_log[before:] if r.path == "/v2/orders/search"
               and r.body["location_ids"] == [first_location]]
    assert resumed[0].body.get("cursor") == saved.next_url  # not page one again
    assert len(resumed) == 1  # 25 orders in pages of 10: only the third page was left
    orders = _landed_ids(landing, "orders")
    assert len(orders) == len(set(orders)) == 75
    assert cursors.all() == {}
