"""The sandbox's webhook sender: delivers Shopify, Stripe and Adyen events the way the vendors do.

- signed with the endpoint's secret (Shopify base64 HMAC of the body; Stripe `t=,v1=` over
  "t.body", signed afresh on every attempt as Stripe does; Adyen an HMAC in each item);
- at least once: a delivery answered with anything but 2xx (or not answered) is retried with
  backoff, and at `duplicate_rate` a delivery that succeeded is sent once more with the same
  webhook/event id, as vendors' queues occasionally do;
- on `connections` connections at once, so events arrive in no promised order, as the vendors warn;
- Shopify topics orders/create (the order as first placed, no refunds), orders/updated (the order
  as it is now, for orders that changed) and refunds/create (each refund); Stripe types
  charge.succeeded, charge.refunded (one per refund; data.object is the charge, as Stripe sends),
  payout.paid and charge.dispute.created; Adyen one notification item per POST.

`send` returns, per vendor and topic, how many distinct events were acknowledged: the ground
truth the event store and raw_webhooks.events must hold, however many duplicates went out.
"""
from __future__ import annotations

import copy
import http.client
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from connectors.sandbox.stripe_api import StripeStore
from connectors.sandbox.world import World
from connectors.webhooks import signatures

SHOP_DOMAIN = "omnirecon-sandbox.myshopify.com"
SHOPIFY_API_VERSION = "2026-07"
STRIPE_API_VERSION = "2024-06-20"


@dataclass(frozen=True)
class Delivery:
    """One event to deliver: who sends it, its id, topic and the exact body."""
    vendor: str
    event_id: str
    topic: str
    body: bytes
    triggered_at: str | None = None  # Shopify's X-Shopify-Triggered-At


@dataclass
class SendReport:
    events: dict[str, dict[str, int]] = field(default_factory=dict)  # vendor -> topic -> distinct events acknowledged
    attempts: int = 0
    duplicates_sent: int = 0
    retries: int = 0
    undelivered: list[Delivery] = field(default_factory=list)

    def total(self, vendor: str | None = None) -> int:
        return sum(n for v, topics in self.events.items() if vendor in (None, v) for n in topics.values())

    @classmethod
    def combined(cls, reports: Iterable[SendReport]) -> SendReport:
        """One report of several connections' reports."""
        whole = cls()
        for report in reports:
            for vendor, topics in report.events.items():
                counts = whole.events.setdefault(vendor, {})
                for topic, n in topics.items():
                    counts[topic] = counts.get(topic, 0) + n
            whole.attempts += report.attempts
            whole.duplicates_sent += report.duplicates_sent
            whole.retries += report.retries
            whole.undelivered += report.undelivered
        return whole


def _body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _event_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---- building events ------------------------------------------------------------------------

def shopify_deliveries(orders: Iterable[dict], rng: random.Random) -> list[Delivery]:
    """orders/create for each order, orders/updated for orders changed since, refunds/create per refund."""
    deliveries = []
    for order in orders:
        placed = {**copy.deepcopy(order), "refunds": [], "updated_at": order["created_at"]}
        deliveries.append(Delivery("shopify", _event_uuid(rng), "orders/create", _body(placed), order["created_at"]))
        for refund in order.get("refunds", []):
            deliveries.append(Delivery("shopify", _event_uuid(rng), "refunds/create", _body(refund),
                                       refund["created_at"]))
        if order["updated_at"] != order["created_at"] or order.get("refunds"):
            deliveries.append(Delivery("shopify", _event_uuid(rng), "orders/updated", _body(order),
                                       order["updated_at"]))
    return deliveries


def _stripe_event(event_type: str, obj: dict, created: int, rng: random.Random) -> Delivery:
    event_id = "evt_" + uuid.UUID(int=rng.getrandbits(128)).hex[:24]
    event = {"id": event_id, "object": "event", "api_version": STRIPE_API_VERSION, "created": created,
             "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
             "request": {"id": None, "idempotency_key": None}, "type": event_type}
    return Delivery("stripe", event_id, event_type, _body(event))


def stripe_deliveries(rng: random.Random, *, charges: Iterable[dict] = (), refunds: Iterable[dict] = (),
                      payouts: Iterable[dict] = (), disputes: Iterable[dict] = ()) -> list[Delivery]:
    charges = list(charges)
    by_id = {charge["id"]: charge for charge in charges}
    refunded: dict[str, int] = {}
    deliveries = [_stripe_event("charge.succeeded", c, c["created"], rng) for c in charges if c.get("status") == "succeeded"]
    for refund in sorted(refunds, key=lambda r: (r["created"], r["id"])):
        charge_id = refund["charge"]["id"] if isinstance(refund.get("charge"), dict) else refund.get("charge")
        if charge_id not in by_id:
            raise ValueError(f"refund {refund['id']} refunds charge {charge_id}, which is not among the charges")
        # The event shows the charge as it is after this refund, as Stripe's does.
        refunded[charge_id] = refunded.get(charge_id, 0) + refund["amount"]
        charge = {**by_id[charge_id], "amount_refunded": refunded[charge_id],
                  "refunded": refunded[charge_id] >= by_id[charge_id]["amount"]}
        deliveries.append(_stripe_event("charge.refunded", charge, refund["created"], rng))
    deliveries += [_stripe_event("payout.paid", p, p["created"], rng) for p in payouts if p.get("status") == "paid"]
    deliveries += [_stripe_event("charge.dispute.created", d, d["created"], rng) for d in disputes]
    return deliveries


def adyen_deliveries(items: Iterable[dict], hmac_key: str, *, live: bool = False) -> list[Delivery]:
    """One batch per notification item, each item signed in additionalData.hmacSignature."""
    deliveries = []
    for item in items:
        signed = copy.deepcopy(item)
        signed["additionalData"] = {**(signed.get("additionalData") or {}),
                                    "hmacSignature": signatures.sign_adyen(hmac_key, item)}
        batch = {"live": "true" if live else "false", "notificationItems": [{"NotificationRequestItem": signed}]}
        event_id = f"{item['eventCode']}:{item['pspReference']}:{item['success']}"
        deliveries.append(Delivery("adyen", event_id, item["eventCode"], _body(batch)))
    return deliveries


def world_deliveries(world: World, orders: Iterable[dict], stripe: StripeStore | None = None) -> list[Delivery]:
    """Every webhook event of the sandbox: the web shop's orders and the Stripe account's objects; the count
    of distinct events is registered as the ground truth of raw_webhooks.events."""
    rng = world.rng("webhooks")
    deliveries = shopify_deliveries(orders, rng)
    if stripe is not None:
        deliveries += stripe_deliveries(rng, charges=stripe.charges, refunds=stripe.refunds, payouts=stripe.payouts,
                                        disputes=stripe.disputes)
    world.count("webhooks", "events", len(deliveries))
    return deliveries


# ---- delivering -----------------------------------------------------------------------------

class WebhookSender:
    """Delivers events to a receiver (`base_url` + /webhooks/<vendor>) like the vendors' senders."""

    def __init__(self, base_url: str, *, shopify_secret: str, stripe_secret: str, rng: random.Random,
                 duplicate_rate: float = 0.05, max_attempts: int = 5, backoff_seconds: float = 0.0,
                 timeout: float = 5.0, clock: Callable[[], float] = time.time, shop_domain: str = SHOP_DOMAIN,
                 connections: int = 1):
        self.base_url = base_url.rstrip("/")
        self._shopify_secret = shopify_secret
        self._stripe_secret = stripe_secret
        self.rng = rng
        self.duplicate_rate = duplicate_rate
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout
        self._clock = clock
        self.shop_domain = shop_domain
        # Vendors deliver on several connections at once, in no promised order (Shopify and Stripe both
        # say so): each connection sends its share of the events one after another, kept alive.
        self.connections = max(1, connections)
        self._address = urlsplit(self.base_url)

    def __repr__(self) -> str:
        return f"WebhookSender({self.base_url!r})"

    def headers(self, delivery: Delivery) -> dict[str, str]:
        """What the vendor sends with one attempt (Stripe's signature is made per attempt)."""
        headers = {"Content-Type": "application/json"}
        if delivery.vendor == "shopify":
            headers.update({
                "X-Shopify-Topic": delivery.topic, "X-Shopify-Shop-Domain": self.shop_domain,
                "X-Shopify-API-Version": SHOPIFY_API_VERSION, "X-Shopify-Webhook-Id": delivery.event_id,
                "X-Shopify-Event-Id": delivery.event_id,
                "X-Shopify-Hmac-Sha256": signatures.sign_shopify(self._shopify_secret, delivery.body)})
            if delivery.triggered_at:
                headers["X-Shopify-Triggered-At"] = delivery.triggered_at
        elif delivery.vendor == "stripe":
            headers["User-Agent"] = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
            headers["Stripe-Signature"] = signatures.sign_stripe(self._stripe_secret, delivery.body,
                                                                 int(self._clock()))
        else:
            headers["User-Agent"] = "Adyen HttpClient 1.0"
        return headers

    def send(self, deliveries: Iterable[Delivery]) -> SendReport:
        deliveries = list(deliveries)
        # Drawn before anything is sent, in the deliveries' order: a seed sends the same duplicates
        # however the connections interleave.
        twice = [self.rng.random() < self.duplicate_rate for _ in deliveries]
        lanes = max(1, min(self.connections, len(deliveries)))
        with ThreadPoolExecutor(lanes, thread_name_prefix="webhook-sender") as pool:
            reports = list(pool.map(lambda lane: self._send_on_one_connection(deliveries[lane::lanes],
                                                                              twice[lane::lanes]), range(lanes)))
        return SendReport.combined(reports)

    def _send_on_one_connection(self, deliveries: list[Delivery], twice: list[bool]) -> SendReport:
        report, connection = SendReport(), _KeptAliveConnection(self._address, self.timeout)
        try:
            for delivery, again in zip(deliveries, twice):
                if not self._deliver(delivery, report, connection):
                    report.undelivered.append(delivery)
                    continue
                topics = report.events.setdefault(delivery.vendor, {})
                topics[delivery.topic] = topics.get(delivery.topic, 0) + 1
                if again:
                    report.duplicates_sent += 1
                    self._deliver(delivery, report, connection)
        finally:
            connection.close()
        return report

    def _deliver(self, delivery: Delivery, report: SendReport, connection: _KeptAliveConnection) -> bool:
        path = f"{self._address.path}/webhooks/{delivery.vendor}"
        for attempt in range(self.max_attempts):
            if attempt:
                report.retries += 1
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            report.attempts += 1
            status = connection.post(path, delivery.body, self.headers(delivery))
            if status is not None and 200 <= status < 300:
                return True
        return False


class _KeptAliveConnection:
    """One HTTP connection, kept alive between posts and opened afresh after a failure. Plain http.client:
    requests' per-call session merging (proxies from the environment, hooks) cost the sender more than the
    receiver's whole work."""

    def __init__(self, address, timeout: float):
        self._address, self._timeout = address, timeout
        self._connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> int | None:
        """The answer's status, or None when there was no answer."""
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self._address.hostname, self._address.port,
                                                          timeout=self._timeout)
        try:
            self._connection.request("POST", path, body=body, headers=headers)
            response = self._connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            return None
        if response.will_close:
            self.close()
        return response.status

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
