"""Contract: what Shopify, Stripe and Adyen deliver by webhook validates with connectors/webhooks.

Read in place from ../shared/vendor-fixtures (or $OMNIRECON_VENDOR_FIXTURES):
- shopify/rest-admin-2026-07-examples/order.json and refund.json: the REST Admin 2026-07 reference
  examples. A webhook body is the full resource, so every full order and refund in them must
  validate; responses cut down with `fields=` and refund *calculations* (no id: nothing was
  created) are not webhook bodies, and must be refused (they would be quarantined), not crash;
- stripe/fixtures3_subset.json: the `event` resource, and every charge, refund, payout and
  dispute fixture wrapped as the data.object of an event;
- adyen/standard_webhooks_examples.json: the 42 standard webhook examples; 39 are notification
  batches (notificationItems) and validate; 3 (ACH / EFT notice of change) are typed events of
  another shape ({"type", "data": {...}}), which the receiver does not take yet: they must be told
  apart, not half-parsed.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from connectors.shopify import models as shopify_models
from connectors.webhooks import models, raw_tables
from connectors.webhooks.event_store import WebhookEvent
from tests.vendor_fixtures import vendor_fixture

RECEIVED = datetime(2026, 11, 3, 14, 0, tzinfo=timezone.utc)


def _examples(name: str) -> list[dict]:
    return json.loads(vendor_fixture("shopify", "rest-admin-2026-07-examples", f"{name}.json").read_text())["examples"]


def _resources(name: str, singular: str) -> list[tuple[str, dict, str]]:
    """(label, resource, query) of every order/refund object in the examples' responses."""
    found = []
    for example in _examples(name):
        response = example["response"]
        objects = ([response[singular]] if singular in response else []) + response.get(f"{singular}s", [])
        found += [(f"{example['test']} {example['request']['method']} {example['request']['path']}", obj,
                   example["request"]["query"] or "") for obj in objects]
    return found


ORDERS = _resources("order", "order")
REFUNDS = _resources("refund", "refund")


def _is_webhook_body(label: str, query: str) -> bool:
    return "fields=" not in query and "/calculate.json" not in label


def _record(vendor: str, event_id: str, topic: str, body: str, headers: dict | None = None,
            item_index: int | None = None) -> dict:
    return WebhookEvent(vendor, event_id, topic, RECEIVED, body, f"/webhooks/{vendor}", headers or {},
                        item_index).record()


def test_the_shopify_examples_hold_full_orders_and_refunds():
    assert sum(_is_webhook_body(label, q) for label, _, q in ORDERS) >= 25
    assert sum(_is_webhook_body(label, q) for label, _, q in REFUNDS) >= 3


@pytest.mark.parametrize("label, order, query", ORDERS, ids=[label for label, _, _ in ORDERS])
@pytest.mark.parametrize("topic", ["orders/create", "orders/updated"])
def test_shopify_order_webhooks_validate_and_flatten(label, order, query, topic):
    record = _record("shopify", f"wh-{order['id']}", topic, json.dumps(order),
                     {"X-Shopify-Shop-Domain": "shop.myshopify.com", "X-Shopify-Triggered-At": "2026-11-03T13:59:59Z"})
    if not _is_webhook_body(label, query):
        with pytest.raises(ValidationError):
            raw_tables.flatten("shopify", record)
        return
    row, = raw_tables.flatten("shopify", record)["events"]
    assert row["resource_id"] == str(order["id"]) and row["topic"] == topic and row["account"] == "shop.myshopify.com"
    assert row["occurred_at"] == datetime(2026, 11, 3, 13, 59, 59, tzinfo=timezone.utc)
    assert json.loads(row["payload"]) == order
    parsed = models.StoredEvent.model_validate(record).parsed
    assert isinstance(parsed, shopify_models.Order) and str(parsed.total_price) == order["total_price"]


@pytest.mark.parametrize("label, refund, query", REFUNDS, ids=[label for label, _, _ in REFUNDS])
def test_shopify_refund_webhooks_validate_and_flatten(label, refund, query):
    record = _record("shopify", "wh-refund", "refunds/create", json.dumps(refund))
    if not _is_webhook_body(label, query):
        with pytest.raises(ValidationError):
            raw_tables.flatten("shopify", record)
        return
    row, = raw_tables.flatten("shopify", record)["events"]
    assert row["resource_id"] == str(refund["id"]) and row["occurred_at"] is None
    parsed = models.StoredEvent.model_validate(record).parsed
    assert isinstance(parsed, shopify_models.Refund) and parsed.order_id == refund["order_id"]


STRIPE = json.loads(vendor_fixture("stripe", "fixtures3_subset.json").read_text())["resources"]


def test_the_stripe_event_fixture_validates_and_flattens():
    event = STRIPE["event"]
    row, = raw_tables.flatten("stripe", _record("stripe", event["id"], event["type"], json.dumps(event)))["events"]
    assert row == {"vendor": "stripe", "event_id": "evt_1Pgc76B7WZ01zgkWwyRHS12y", "topic": "plan.created",
                   "received_at": RECEIVED, "occurred_at": datetime.fromtimestamp(1234567890, timezone.utc),
                   "account": None, "resource_id": "price_1PgafmB7WZ01zgkW6dKueIc5", "payload": json.dumps(event)}


@pytest.mark.parametrize("kind, event_type", [("charge", "charge.succeeded"), ("charge", "charge.refunded"),
                                              ("refund", "refund.created"), ("payout", "payout.paid"),
                                              ("dispute", "charge.dispute.created")])
def test_stripe_events_carrying_the_objects_we_read_validate(kind, event_type):
    event = {**STRIPE["event"], "type": event_type, "data": {"object": STRIPE[kind]}}
    stored = models.StoredEvent.model_validate(_record("stripe", event["id"], event_type, json.dumps(event)))
    assert stored.parsed.resource_id == STRIPE[kind]["id"]


def test_a_stripe_event_whose_object_breaks_its_model_or_whose_id_differs_is_refused():
    broken = {**STRIPE["event"], "type": "charge.succeeded", "data": {"object": {**STRIPE["charge"], "amount": 10.5}}}
    with pytest.raises(ValidationError, match="amount"):
        raw_tables.flatten("stripe", _record("stripe", broken["id"], broken["type"], json.dumps(broken)))
    event = STRIPE["event"]
    with pytest.raises(ValidationError, match="differs"):
        raw_tables.flatten("stripe", _record("stripe", "evt_other", event["type"], json.dumps(event)))


ADYEN_ALL = json.loads(vendor_fixture("adyen", "standard_webhooks_examples.json").read_text())["examples"]
ADYEN = {name: example for name, example in ADYEN_ALL.items() if "notificationItems" in example["value"]}
ADYEN_TYPED = {name: example for name, example in ADYEN_ALL.items() if name not in ADYEN}


def test_the_adyen_examples_cover_the_event_codes_we_read():
    assert (len(ADYEN_ALL), len(ADYEN)) == (42, 39)
    assert {"AUTHORISATION", "CAPTURE", "REFUND", "CHARGEBACK", "REPORT_AVAILABLE"} <= {
        entry["NotificationRequestItem"]["eventCode"] for example in ADYEN.values()
        for entry in example["value"]["notificationItems"]}


@pytest.mark.parametrize("name", sorted(ADYEN_TYPED))
def test_adyen_typed_notice_of_change_events_are_not_taken_for_batches(name):
    assert ADYEN_TYPED[name]["value"]["type"].endswith(".notificationOfChange")
    with pytest.raises(ValidationError, match="notificationItems"):
        models.AdyenNotification.model_validate(ADYEN_TYPED[name]["value"])


@pytest.mark.parametrize("name", sorted(ADYEN))
def test_adyen_notifications_validate_and_flatten(name):
    batch = ADYEN[name]["value"]
    assert models.AdyenNotification.model_validate(batch).live in ("true", "false")
    body = json.dumps(batch)
    for index, entry in enumerate(batch["notificationItems"]):
        item = entry["NotificationRequestItem"]
        event_id = f"{item['eventCode']}:{item['pspReference']}:{item['success']}"
        row, = raw_tables.flatten("adyen", _record("adyen", event_id, item["eventCode"], body,
                                                   item_index=index))["events"]
        assert row["resource_id"] == item["pspReference"] and row["account"] == item["merchantAccountCode"]
        assert row["occurred_at"].tzinfo is not None and json.loads(row["payload"]) == item


def test_an_adyen_event_pointing_past_its_batch_is_refused():
    batch = ADYEN["post-REFUND-refund"]["value"]
    with pytest.raises(ValidationError, match="item_index"):
        raw_tables.flatten("adyen", _record("adyen", "REFUND:x:false", "REFUND", json.dumps(batch), item_index=1))


def test_an_event_stored_under_another_vendor_is_refused():
    event = STRIPE["event"]
    with pytest.raises(ValidationError, match="stored under shopify"):
        raw_tables.flatten("shopify", _record("stripe", event["id"], event["type"], json.dumps(event)))
