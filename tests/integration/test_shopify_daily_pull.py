"""A business day pulled over HTTP from the fake Shopify Admin API: complete, and resumable after a crash."""
from __future__ import annotations

from datetime import date

import pytest

from connectors.landing_zone import LandingZone
from connectors.raw_load import load_landed_files
from connectors.sandbox.retailer import start_sandbox
from connectors.sandbox.simulator import SandboxConfig
from connectors.shopify import daily_pull
from connectors.shopify.client import ShopifyAdminClient
from connectors.shopify.daily_pull import pull_business_day
from connectors.shopify.raw_tables import RAW_TABLES
from connectors.shopify.extract import CursorStore
from connectors.warehouse import connect

CONFIG = SandboxConfig(seed=21, start_date=date(2026, 11, 2), days=2, orders_per_day=60)
DAYS = [date(2026, 11, 2), date(2026, 11, 3)]


@pytest.fixture
def sandbox(tmp_path):
    with start_sandbox(CONFIG, tmp_path / "sandbox") as running:
        yield running


def _raw_counts(landing: LandingZone, tmp_path) -> dict:
    with connect(str(tmp_path / "wh.duckdb")) as wh:
        load_landed_files(wh, landing.files("shopify"))
        return {t: wh.fetchall(f"select count(distinct id) from raw_shopify.{t}")[0][0] for t in RAW_TABLES}


def test_pulling_every_day_lands_every_record(sandbox, tmp_path):
    client = ShopifyAdminClient(sandbox.shopify_api.base_url, sandbox.access_token)
    landing, cursors = LandingZone(tmp_path / "landing"), CursorStore(tmp_path / "cursors.json")
    for day in DAYS:
        pull_business_day(client, landing, cursors, day=day, time_zone=CONFIG.time_zone, log=lambda _: None)
    assert _raw_counts(landing, tmp_path) == sandbox.world.ground_truth["sources"]["shopify"]
    assert cursors.all() == {}  # a finished day leaves no cursor behind: pulling it again is a replay


def test_a_pull_that_dies_resumes_where_it_stopped(sandbox, tmp_path, monkeypatch):
    client = ShopifyAdminClient(sandbox.shopify_api.base_url, sandbox.access_token)
    landing, cursors = LandingZone(tmp_path / "landing"), CursorStore(tmp_path / "cursors.json")
    monkeypatch.setattr(daily_pull, "ORDER_LINES_PER_PAGE", 5)
    real_land = landing.land

    def land_then_die(source, stream, partition, records, **kw):
        path = real_land(source, stream, partition, records, **kw)
        if stream == "order_transactions" and kw.get("page") == 1:
            raise KeyboardInterrupt("the process is killed after landing page 1, before its cursor is saved")
        return path

    monkeypatch.setattr(landing, "land", land_then_die)
    with pytest.raises(KeyboardInterrupt):
        pull_business_day(client, landing, cursors, day=DAYS[0], time_zone=CONFIG.time_zone, log=lambda _: None)
    assert cursors.get("order_transactions/2026-11-02").pages_done == 1

    monkeypatch.setattr(landing, "land", real_land)
    log_before = len(sandbox.shopify_api.request_log)
    pull_business_day(client, landing, cursors, day=DAYS[0], time_zone=CONFIG.time_zone, log=lambda _: None)
    resumed = sandbox.shopify_api.request_log[log_before:]
    assert not any(r.path.endswith("/orders.json") for r in resumed)  # orders were finished before the crash
    assert sandbox.shopify_api.bulk_operations.started == 1  # the same operation's file, downloaded again
    pages = sorted(int(p.name.split("-p")[1][:4]) for p in landing.files("shopify", "order_transactions"))
    assert pages[:3] == [0, 1, 1] and pages[2:] == list(range(1, len(pages) - 1))  # page 0 not landed again
    assert len(pages) >= 4

    pull_business_day(client, landing, cursors, day=DAYS[1], time_zone=CONFIG.time_zone, log=lambda _: None)
    assert _raw_counts(landing, tmp_path) == sandbox.world.ground_truth["sources"]["shopify"]
