"""raw_stripe loads from the landed daily pulls: counts equal the sandbox's ground truth, twice adds nothing."""
from __future__ import annotations

import pytest

from connectors import raw_load
from connectors.landing_zone import LandingZone
from connectors.sandbox.channels import stripe as stripe_sim
from connectors.sandbox.stripe_api import FakeStripeAPI
from connectors.shopify.extract import CursorStore
from connectors.stripe import raw_tables
from connectors.stripe.client import StripeClient
from connectors.stripe.daily_pull import pull_business_day
from connectors.warehouse import connect
from tests.psp_card_payments import world_with

KEY = "sk_test_51RawLoadFake000000000000abcd"


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    monkeypatch.setitem(raw_load.RAW_SOURCES, "stripe", raw_tables)
    with connect(str(tmp_path / "w.duckdb")) as wh:
        yield wh


def test_landed_pulls_load_into_raw_stripe_once(tmp_path, warehouse):
    world = world_with("stripe")
    sandbox = stripe_sim.simulate(world, dispute_rate=0.3)
    landing = LandingZone(tmp_path / "landing")
    with FakeStripeAPI(sandbox, KEY) as api:
        client = StripeClient(api.base_url, KEY, backoff_seconds=0.001)
        for day in world.business_days:
            pull_business_day(client, landing, CursorStore(tmp_path / "c.json"), day=day,
                              time_zone="America/New_York", log=lambda _: None, page_size=7)
        # a replay of the last day lands the same records again in new files
        pull_business_day(client, landing, CursorStore(tmp_path / "c.json"), day=world.business_days[-1],
                          time_zone="America/New_York", log=lambda _: None, page_size=7)
    files = landing.files("stripe")

    first = raw_load.load_landed_files(warehouse, files, source="stripe")
    assert first.quarantined == 0 and first.files_loaded == len(files)
    for table, key in raw_tables.RECORD_KEYS.items():
        (distinct,), = warehouse.fetchall(f"select count(distinct {key}) from raw_stripe.{table}")
        assert distinct == world.records["stripe"][table], table
    (unlinked,), = warehouse.fetchall("select count(*) from raw_stripe.balance_transactions where payout_id is null")
    assert unlinked == 0
    (paid,), = warehouse.fetchall("select sum(net) from raw_stripe.balance_transactions where type <> 'payout'")
    (payout_amount,), = warehouse.fetchall("select sum(amount) from raw_stripe.payouts")
    assert paid == payout_amount > 0

    counts = {t: warehouse.fetchall(f"select count(*) from raw_stripe.{t}")[0][0] for t in raw_tables.RAW_TABLES}
    again = raw_load.load_landed_files(warehouse, files, source="stripe")
    assert again.files_skipped == len(files) and again.files_loaded == 0
    after = {t: warehouse.fetchall(f"select count(*) from raw_stripe.{t}")[0][0] for t in raw_tables.RAW_TABLES}
    assert after == counts


def test_a_payload_that_no_longer_validates_is_quarantined_and_its_page_neighbours_land(tmp_path, warehouse):
    landing = LandingZone(tmp_path / "landing")
    good = {"id": "ch_good", "object": "charge", "amount": 1000, "currency": "usd", "status": "succeeded",
            "created": 1_790_000_000}
    bad = {**good, "id": "ch_bad", "amount": "10.00"}  # a string amount: never read money loosely
    path = landing.land("stripe", "charges", "2026-11-02", [good, bad], request_url="/v1/charges", page=1)

    report = raw_load.load_landed_files(warehouse, [path], source="stripe")
    assert report.quarantined == 1 and "amount" in report.quarantine_reasons[0]
    assert warehouse.fetchall("select id from raw_stripe.charges") == [("ch_good",)]
    assert warehouse.fetchall("select record_id from raw_stripe._quarantine") == [("ch_bad",)]
