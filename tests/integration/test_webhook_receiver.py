"""The webhook receiver over real HTTP on loopback: signatures checked, events stored exactly once,
and the stored events loaded into raw_webhooks once, on DuckDB and PostgreSQL."""
from __future__ import annotations

import json
import random
import threading
import time
from datetime import date

import pytest
import requests

from connectors import raw_load
from connectors.landing_zone import read_landed
from connectors.sandbox.simulator import SandboxConfig, simulate
from connectors.sandbox.webhook_sender import (Delivery, WebhookSender, adyen_deliveries, shopify_deliveries,
                                               stripe_deliveries, world_deliveries)
from connectors.warehouse import connect
from connectors.webhooks import raw_tables
from connectors.webhooks.receiver import (ADYEN_HMAC_KEY_ENV, STRIPE_SECRET_ENV, Answer, MissingSecret,
                                          WebhookReceiver, WebhookSecrets)
from connectors.webhooks.signatures import sign_shopify, sign_stripe

SECRETS = WebhookSecrets(shopify="shpss_receiver_secret", stripe="whsec_receiver_secret",
                         adyen_hmac_key="44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056")
CHARGE = {"id": "ch_3PgaxNB7WZ01zgkW0001", "object": "charge", "amount": 17924, "amount_captured": 17924,
          "currency": "usd", "status": "succeeded", "captured": True, "paid": True, "created": 1793650000}
ADYEN_ITEM = {"pspReference": "7914073381342284", "merchantAccountCode": "OmnireconUS",
              "merchantReference": "#1002", "amount": {"value": 17924, "currency": "USD"},
              "eventCode": "CAPTURE", "eventDate": "2026-11-03T10:00:00+01:00", "success": "true",
              "originalReference": "8835511223344556", "paymentMethod": "visa", "reason": ""}


@pytest.fixture
def receiver(tmp_path):
    with WebhookReceiver(tmp_path / "landing", SECRETS, max_body_bytes=64 * 1024) as running:
        yield running


def _sender(receiver, **options) -> WebhookSender:
    return WebhookSender(receiver.base_url, shopify_secret=SECRETS.shopify, stripe_secret=SECRETS.stripe,
                         rng=random.Random(7), **{"duplicate_rate": 0.0, **options})


def _stripe_event() -> Delivery:
    return stripe_deliveries(random.Random(1), charges=[CHARGE])[0]


def _post(receiver, delivery: Delivery, headers: dict) -> requests.Response:
    return requests.post(f"{receiver.base_url}/webhooks/{delivery.vendor}", data=delivery.body, headers=headers,
                         timeout=5)


def test_a_bad_or_missing_signature_is_refused_with_401_and_nothing_is_stored(receiver):
    sender = _sender(receiver)
    event = _stripe_event()
    tampered = _post(receiver, Delivery("stripe", event.event_id, event.topic, event.body.replace(b"17924", b"1")),
                     sender.headers(event))
    unsigned = _post(receiver, event, {"Content-Type": "application/json"})
    stale = _post(receiver, event, {"Stripe-Signature": sign_stripe(SECRETS.stripe, event.body, int(time.time()) - 301)})
    wrong_secret = _post(receiver, event, {"Stripe-Signature": sign_stripe("whsec_other", event.body, int(time.time()))})
    order = json.dumps({"id": 1, "name": "#1"}).encode()
    shopify = requests.post(f"{receiver.base_url}/webhooks/shopify", data=order, timeout=5, headers={
        "X-Shopify-Hmac-Sha256": sign_shopify("wrong", order), "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"})
    assert [r.status_code for r in (tampered, unsigned, stale, wrong_secret, shopify)] == [401] * 5
    assert "301 s old" in stale.json()["error"] and "missing" in unsigned.json()["error"]
    assert all(SECRETS.stripe not in r.text and SECRETS.shopify not in r.text
               for r in (tampered, unsigned, stale, wrong_secret, shopify))
    assert receiver.store.files() == []
    assert receiver.outcomes[("stripe", "rejected")] == 4


def test_an_event_is_stored_once_with_its_raw_body_and_headers_but_not_its_signature(receiver):
    sender = _sender(receiver)
    event = _stripe_event()
    first = _post(receiver, event, sender.headers(event))
    again = _post(receiver, event, sender.headers(event))
    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    stored, = receiver.store.files("stripe")
    extract = read_landed(stored)
    assert (extract.source, extract.stream, stored.name) == ("webhooks", "stripe", f"{event.event_id}.json")
    record, = extract.records
    assert record["body"].encode() == event.body  # exactly what was signed
    assert record["event_id"] == event.event_id and record["topic"] == "charge.succeeded"
    assert "Stripe-Signature" not in record["headers"] and record["headers"]["Content-Type"] == "application/json"
    assert receiver.outcomes[("stripe", "stored")] == 1 and receiver.outcomes[("stripe", "duplicate")] == 1


def test_the_same_delivery_racing_itself_from_threads_is_stored_once(receiver):
    orders = [{"id": 5100000002, "name": "#1002", "created_at": "2026-11-02T15:20:40-05:00",
               "updated_at": "2026-11-02T15:20:40-05:00", "currency": "USD", "subtotal_price": "179.24",
               "total_price": "179.24"}]
    sender = _sender(receiver)
    delivery = shopify_deliveries(orders, random.Random(3))[0]
    headers = sender.headers(delivery)
    barrier, statuses = threading.Barrier(8), []

    def deliver():
        barrier.wait()
        statuses.append(_post(receiver, delivery, headers).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    assert len(receiver.store.files("shopify")) == 1
    assert receiver.outcomes[("shopify", "stored")] == 1 and receiver.outcomes[("shopify", "duplicate")] == 7
    day_folder = receiver.store.files("shopify")[0].parent
    assert [p.name for p in day_folder.iterdir()] == [receiver.store.files("shopify")[0].name]  # nothing left aside


def test_a_sender_on_several_connections_sends_what_one_connection_sends(tmp_path):
    sandbox = simulate(SandboxConfig(seed=5, start_date=date(2026, 11, 2), days=2, orders_per_day=20))
    deliveries = world_deliveries(sandbox.world, sandbox.store.orders, sandbox.channels["stripe"])
    reports, stored = [], []
    for connections in (1, 4):
        with WebhookReceiver(tmp_path / f"landing-{connections}", SECRETS) as receiver:
            reports.append(_sender(receiver, duplicate_rate=0.3, connections=connections).send(deliveries))
            stored.append(sorted(f"{p.parent.parent.name}/{p.name}" for p in receiver.store.files()))  # vendor/event
            outcomes = receiver.outcomes
        assert sum(n for (_, outcome), n in outcomes.items() if outcome == "stored") == len(deliveries)
        assert sum(n for (_, outcome), n in outcomes.items() if outcome == "duplicate") == reports[-1].duplicates_sent
    one, four = reports
    assert one.duplicates_sent > 0 and one.undelivered == four.undelivered == []
    # The same seed sends the same duplicates, whatever order the four connections deliver in.
    assert (four.events, four.attempts, four.duplicates_sent) == (one.events, one.attempts, one.duplicates_sent)
    assert stored[0] == stored[1] and len(stored[0]) == len(deliveries) == one.total()
    assert {vendor for vendor, _ in outcomes} == {"shopify", "stripe"}


def test_oversized_bodies_unknown_paths_and_health(receiver):
    event = _stripe_event()
    huge = b'{"id":"evt_x","pad":"' + b"x" * (64 * 1024) + b'"}'
    too_big = requests.post(f"{receiver.base_url}/webhooks/stripe", data=huge, timeout=5,
                            headers={"Stripe-Signature": sign_stripe(SECRETS.stripe, huge, int(time.time()))})
    assert too_big.status_code == 413
    assert requests.post(f"{receiver.base_url}/webhooks/paypal", data=event.body, timeout=5).status_code == 404
    health = requests.get(f"{receiver.base_url}/healthz", timeout=5)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert receiver.store.files() == []


def test_adyen_batches_are_accepted_per_item_and_refused_whole_when_one_item_is_unsigned(receiver):
    delivery, = adyen_deliveries([ADYEN_ITEM], SECRETS.adyen_hmac_key)
    answer = requests.post(f"{receiver.base_url}/webhooks/adyen", data=delivery.body, timeout=5)
    assert (answer.status_code, answer.text) == (200, "[accepted]")
    batch = json.loads(delivery.body)
    batch["notificationItems"].append({"NotificationRequestItem": {**ADYEN_ITEM, "pspReference": "X"}})
    refused = requests.post(f"{receiver.base_url}/webhooks/adyen", data=json.dumps(batch), timeout=5)
    assert refused.status_code == 401 and "item 1" in refused.json()["error"]
    stored, = receiver.store.files("adyen")
    assert read_landed(stored).records[0]["event_id"] == "CAPTURE:7914073381342284:true"


def test_a_missing_secret_names_its_environment_variable_and_secrets_stay_out_of_reprs(tmp_path):
    with pytest.raises(MissingSecret, match=STRIPE_SECRET_ENV):
        WebhookSecrets.from_env({"SHOPIFY_WEBHOOK_SECRET": "a", ADYEN_HMAC_KEY_ENV: "00ff"})
    with pytest.raises(MissingSecret, match=ADYEN_HMAC_KEY_ENV):
        WebhookSecrets("a", "b", "not hex")
    receiver = WebhookReceiver(tmp_path, SECRETS)
    try:
        assert SECRETS.stripe not in repr(receiver) + repr(SECRETS) and SECRETS.shopify not in repr(SECRETS)
    finally:
        receiver.stop()


class _FlakyReceiver(WebhookReceiver):
    """Answers 503 to the first `failures` deliveries, as a receiver behind a restarting proxy would."""

    def __init__(self, *args, failures: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.failures = failures

    def receive(self, vendor, headers, body, path):
        with self._lock:
            if self.failures:
                self.failures -= 1
                return Answer(503, b'{"error":"unavailable"}')
        return super().receive(vendor, headers, body, path)


def test_the_sender_retries_a_delivery_that_failed_and_it_is_stored_once(tmp_path):
    with _FlakyReceiver(tmp_path / "landing", SECRETS, failures=2) as flaky:
        report = _sender(flaky).send([_stripe_event()])
    assert report.events == {"stripe": {"charge.succeeded": 1}}
    assert (report.attempts, report.retries, report.undelivered) == (3, 2, [])
    assert len(flaky.store.files("stripe")) == 1


# ---- from the sandbox to raw_webhooks ---------------------------------------------------------

SANDBOX = simulate(SandboxConfig(seed=3, start_date=date(2026, 11, 2), days=2, orders_per_day=6))


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path):
    target = str(tmp_path / "w.duckdb") if request.param == "duckdb" else request.getfixturevalue("postgres_database")
    with connect(target) as wh:
        yield wh


def test_sandbox_deliveries_with_duplicates_load_one_row_per_event_and_reload_adds_nothing(
        receiver, warehouse, monkeypatch):
    monkeypatch.setitem(raw_load.RAW_SOURCES, "webhooks", raw_tables)
    world = SANDBOX.world
    world.records.pop("webhooks", None)  # the module-level sandbox is shared between parameters
    deliveries = world_deliveries(world, SANDBOX.store.orders, SANDBOX.channels["stripe"])
    report = _sender(receiver, duplicate_rate=0.3).send(deliveries)
    truth = world.records["webhooks"]["events"]
    assert report.duplicates_sent > 0 and report.undelivered == []
    assert report.total() == truth == len(deliveries) == len(receiver.store.files())
    assert set(report.events) == {"shopify", "stripe"} and report.events["shopify"]["orders/create"] == 12

    # A Shopify event whose body is no order: stored (it was signed), quarantined on load.
    bad = b'{"id": 42, "total_price": "lots"}'
    assert requests.post(f"{receiver.base_url}/webhooks/shopify", data=bad, timeout=5, headers={
        "X-Shopify-Hmac-Sha256": sign_shopify(SECRETS.shopify, bad), "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Webhook-Id": "bad-delivery-1"}).status_code == 200

    files = receiver.store.files()
    first = raw_load.load_landed_files(warehouse, files, source="webhooks")
    assert (first.files_loaded, first.quarantined) == (truth + 1, 1)
    assert "shopify:bad-delivery-1" in first.quarantine_reasons[0]
    rows, distinct = warehouse.fetchall(f"select count(*), count(distinct {raw_tables.RECORD_KEYS['events']}) "
                                        "from raw_webhooks.events")[0]
    assert rows == distinct == truth
    by_topic = dict(warehouse.fetchall("select topic, count(*) from raw_webhooks.events group by topic"))
    assert by_topic == {t: n for topics in report.events.values() for t, n in topics.items()}
    order_id = SANDBOX.store.orders[0]["id"]
    assert warehouse.fetchall("select count(*) from raw_webhooks.events where vendor = 'shopify' "
                              "and resource_id = ? and topic in ('orders/create', 'orders/updated')", [str(order_id)])[0][0] == 2

    assert receiver.store.pending(raw_tables.loaded_files(warehouse)) == []
    again = raw_load.load_landed_files(warehouse, files, source="webhooks")
    assert again.files_skipped == len(files) and again.rows_inserted == {}
    assert warehouse.fetchall("select count(*) from raw_webhooks.events")[0][0] == truth
    assert warehouse.fetchall("select count(*) from raw_webhooks._quarantine")[0][0] == 1

    late = _stripe_event()
    _sender(receiver).send([late])
    assert [p.name for p in receiver.store.pending(raw_tables.loaded_files(warehouse))] == [f"{late.event_id}.json"]


def test_a_retry_received_on_a_later_day_is_still_a_duplicate(tmp_path):
    from datetime import datetime, timezone

    from connectors.webhooks.event_store import EventStore, WebhookEvent

    store = EventStore(tmp_path / "landing")
    late_evening = WebhookEvent("stripe", "evt_1", "payout.paid", datetime(2026, 11, 2, 23, 59, tzinfo=timezone.utc),
                                '{"id":"evt_1"}', "/webhooks/stripe")
    next_morning = WebhookEvent("stripe", "evt_1", "payout.paid", datetime(2026, 11, 3, 0, 1, tzinfo=timezone.utc),
                                '{"id":"evt_1"}', "/webhooks/stripe")
    odd_id = WebhookEvent("adyen", "REFUND:../QF/Q:false", "REFUND", next_morning.received_at, "{}", "/webhooks/adyen")
    assert (store.store(late_evening), store.store(next_morning), store.store(odd_id)) == (True, False, True)
    assert [p.relative_to(store.root).as_posix() for p in store.files()] == [
        "stripe/2026-11-02/evt_1.json", f"adyen/2026-11-03/{store.files('adyen')[0].name}"]
    assert store.files("adyen")[0].name.startswith("REFUND_.._QF_Q_false-")
