"""The Stripe daily pull against the fake Stripe API on loopback, serving a simulated account: real HTTP, no mocks."""
from __future__ import annotations

from datetime import date

import pytest

from connectors.landing_zone import LandingZone, read_landed
from connectors.sandbox.channels import stripe as stripe_sim
from connectors.sandbox.stripe_api import FakeStripeAPI
from connectors.shopify.extract import CursorStore
from connectors.stripe import raw_tables
from connectors.stripe.client import StripeAPIError, StripeClient
from connectors.stripe.daily_pull import pull_business_day
from tests.psp_card_payments import world_with

KEY = "sk_test_51PullFake0123456789abcdWXYZ"
TZ = "America/New_York"
PAGE = 5


@pytest.fixture
def world_and_sandbox():
    world = world_with("stripe")
    return world, stripe_sim.simulate(world, dispute_rate=0.3)


@pytest.fixture
def api(world_and_sandbox):
    with FakeStripeAPI(world_and_sandbox[1], KEY) as running:
        yield running


@pytest.fixture
def landing(tmp_path):
    return LandingZone(tmp_path / "landing")


@pytest.fixture
def cursors(tmp_path):
    return CursorStore(tmp_path / "state" / "cursors.json")


def _client(api, key=KEY, **options):
    return StripeClient(api.base_url, key, **{"backoff_seconds": 0.001, "max_retries": 2, "timeout": 5, **options})


def _pull(api, landing, cursors, day, **options):
    return pull_business_day(_client(api, **options), landing, cursors, day=day, time_zone=TZ, log=lambda _: None,
                             page_size=PAGE)


def _landed_ids(landing) -> dict[str, set[str]]:
    """table -> distinct record keys, as the raw loader would flatten every landed page."""
    found: dict[str, set[str]] = {}
    for path in landing.files("stripe"):
        extract = read_landed(path)
        for payload in extract.records:
            for table, rows in raw_tables.flatten(extract.stream, payload).items():
                key = raw_tables.RECORD_KEYS[table]
                found.setdefault(table, set()).update(row[key] for row in rows)
    return found


def test_pulling_every_day_lands_what_the_sandbox_serves(api, landing, cursors, world_and_sandbox):
    world, sandbox = world_and_sandbox
    reports = [_pull(api, landing, cursors, day) for day in world.business_days]

    found = _landed_ids(landing)
    assert {table: len(ids) for table, ids in found.items()} == world.records["stripe"]
    assert world.records["stripe"]["disputes"] > 0 and world.records["stripe"]["refunds"] > 0
    assert sum(r.records["charges"] for r in reports) == len(sandbox.charges)
    # the only payout arriving in the window lands on its arrival day, with its transactions and their payout id
    (paid,) = [p for p in sandbox.payouts if p["status"] == "paid"]
    assert [r.records["payouts"] for r in reports] == [0, 0, 1]
    streams = {read_landed(p).stream for p in landing.files("stripe", partition="2026-11-04")}
    assert f"balance_transactions.{paid['id']}" in streams
    txns = [t for t in sandbox.balance_transactions if sandbox.payout_of[t["id"]] == paid["id"]]
    assert reports[2].records["balance_transactions"] == len(txns) > PAGE  # several pages
    for path in landing.files("stripe", f"balance_transactions.{paid['id']}"):
        for payload in read_landed(path).records:
            assert "payout" not in payload  # the vendor payload is landed as sent
            (row,) = raw_tables.flatten(f"balance_transactions.{paid['id']}", payload)["balance_transactions"]
            assert row["payout_id"] == paid["id"]
    # pages follow starting_after, and every request carries the day's filters
    charge_requests = [r for r in api.request_log if r.path == "/v1/charges"]
    assert all("created[gte]" in r.query and r.query["limit"] == str(PAGE) for r in charge_requests)
    assert any("starting_after" in r.query for r in charge_requests)
    assert cursors.all() == {}  # finished days leave no cursor behind


def test_a_pull_that_dies_resumes_after_its_last_landed_page(api, landing, cursors, tmp_path):
    day = date(2026, 11, 2)
    reference = _pull(api, LandingZone(tmp_path / "reference"), CursorStore(tmp_path / "ref.json"), day)
    api.request_log.clear()

    class OutageAfterThreePages(LandingZone):
        """Lands like any landing zone; once three pages are in, Stripe goes down for longer than the retries."""
        landed = 0

        def land(self, *args, **kwargs):
            path = super().land(*args, **kwargs)
            self.landed += 1
            if self.landed == 3:
                api.fail_next(3)
            return path

    with pytest.raises(StripeAPIError) as failed:
        _pull(api, OutageAfterThreePages(landing.root), cursors, day)
    assert failed.value.status == 500 and len(landing.files("stripe")) == 3
    saved = cursors.all()
    assert saved and all(key.startswith("stripe/") for key in saved)
    (interrupted,) = [c for c in saved.values() if not c.completed]
    landed_before = len(landing.files("stripe"))

    api.request_log.clear()
    resumed = _pull(api, landing, cursors, day)
    first = api.request_log[0]
    assert first.query["starting_after"] in interrupted.next_url  # picks up after the last landed page
    assert landed_before + resumed.pages == reference.pages  # no page fetched twice
    assert {t: len(ids) for t, ids in _landed_ids(landing).items()} == \
        {t: len(ids) for t, ids in _landed_ids(LandingZone(tmp_path / "reference")).items()}
    assert cursors.all() == {}


def test_pulling_a_finished_day_again_fetches_it_afresh(api, landing, cursors):
    day = date(2026, 11, 4)
    first = _pull(api, landing, cursors, day)
    requests_first = len(api.request_log)
    again = _pull(api, landing, cursors, day)
    assert again.records == first.records and again.pages == first.pages > 0
    assert len(api.request_log) == 2 * requests_first


def test_throttling_is_waited_out(api, landing, cursors):
    api.fail_next(2, 429, retry_after=0.01)
    report = _pull(api, landing, cursors, date(2026, 11, 2))
    assert [r.status for r in api.request_log[:3]] == [429, 429, 200]
    assert api.request_log[0].query == api.request_log[2].query
    assert report.records["charges"] == 12


def test_a_wrong_key_fails_without_landing_anything_or_showing_the_key(api, landing, cursors):
    wrong = "sk_test_51WrongKey999999999999abcd"
    with pytest.raises(StripeAPIError) as failed:
        pull_business_day(_client(api, key=wrong), landing, cursors, day=date(2026, 11, 2), time_zone=TZ,
                          log=lambda _: None)
    assert failed.value.status == 401
    assert wrong not in str(failed.value) and wrong not in repr(failed.value) and wrong not in failed.value.body
    assert landing.files("stripe") == [] and cursors.all() == {}


def test_flatten_refuses_a_payout_stream_that_contradicts_its_payout():
    payload = {"id": "txn_1", "object": "balance_transaction", "amount": 100, "currency": "usd", "fee": 0, "net": 100,
               "type": "charge", "status": "available", "created": 1_790_000_000, "available_on": 1_790_000_000}
    assert raw_tables.flatten("balance_transactions.po_A", payload)["balance_transactions"][0]["payout_id"] == "po_A"
    assert raw_tables.flatten("balance_transactions", payload)["balance_transactions"][0]["payout_id"] is None
    with pytest.raises(ValueError):
        raw_tables.flatten("balance_transactions.po_A", payload, payout_id="po_B")
    with pytest.raises(ValueError):
        raw_tables.flatten("charges.po_A", payload)
