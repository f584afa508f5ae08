"""The webhook receiver: an HTTP endpoint per vendor that verifies, stores once, and answers fast.

    POST /webhooks/shopify   X-Shopify-Hmac-Sha256 over the raw body; the dedupe key is
                             X-Shopify-Webhook-Id (identical on every retry of a delivery),
                             X-Shopify-Event-Id when the former is absent
    POST /webhooks/stripe    Stripe-Signature (t, v1) within the tolerance; the key is the event id
    POST /webhooks/adyen     a batch of notification items, each HMAC-signed; answered "[accepted]"
    GET  /healthz

Vendors give up or retry when an answer is slow (Shopify waits 5 s, Adyen 10 s), so the receiver
does nothing but check and store: parsing into business tables is the raw load's job, later. A
bad or missing signature is a 401 with a short reason and stores nothing; a duplicate is a 200 that
stores nothing; a body over the size limit is refused with 413 before it is read; a storage failure
is a 503, so the vendor retries rather than believing we have it.

Secrets come in at construction (the command line reads them from SHOPIFY_WEBHOOK_SECRET,
STRIPE_WEBHOOK_SECRET and ADYEN_HMAC_KEY); they are never logged, echoed or put in a repr.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from connectors.webhooks import signatures
from connectors.webhooks.event_store import EventStore, WebhookEvent

log = logging.getLogger(__name__)

SHOPIFY_SECRET_ENV = "SHOPIFY_WEBHOOK_SECRET"
STRIPE_SECRET_ENV = "STRIPE_WEBHOOK_SECRET"
ADYEN_HMAC_KEY_ENV = "ADYEN_HMAC_KEY"
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024  # a large Shopify order is ~100 KB
READ_TIMEOUT_SECONDS = 30  # a sender that stalls mid-body must not hold a thread forever
ROUTES = {"/webhooks/shopify": "shopify", "/webhooks/stripe": "stripe", "/webhooks/adyen": "adyen"}

# Headers stored with an event: what identifies and dates it, never a signature or credential.
KEPT_HEADERS = {
    "shopify": ("X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id", "X-Shopify-Event-Id",
                "X-Shopify-Triggered-At", "X-Shopify-API-Version", "Content-Type"),
    "stripe": ("Content-Type", "User-Agent"),
    "adyen": ("Content-Type", "User-Agent"),
}


class MissingSecret(ValueError):
    """A vendor's signing secret was not given; the message names the environment variable to set."""


@dataclass(frozen=True)
class WebhookSecrets:
    shopify: str = field(repr=False)
    stripe: str = field(repr=False)
    adyen_hmac_key: str = field(repr=False)

    def __post_init__(self):
        for value, env in ((self.shopify, SHOPIFY_SECRET_ENV), (self.stripe, STRIPE_SECRET_ENV),
                           (self.adyen_hmac_key, ADYEN_HMAC_KEY_ENV)):
            if not value:
                raise MissingSecret(f"no webhook secret configured: set {env}")
        try:
            bytes.fromhex(self.adyen_hmac_key)
        except ValueError:
            raise MissingSecret(f"{ADYEN_HMAC_KEY_ENV} must be the hexadecimal HMAC key from the Adyen "
                                "Customer Area") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> WebhookSecrets:
        return cls(environ.get(SHOPIFY_SECRET_ENV, ""), environ.get(STRIPE_SECRET_ENV, ""),
                   environ.get(ADYEN_HMAC_KEY_ENV, ""))


class Answer(NamedTuple):
    status: int
    body: bytes
    content_type: str = "application/json"


def _json(status: int, **fields) -> Answer:
    return Answer(status, json.dumps(fields).encode())


class _Rejected(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.answer = _json(status, error=reason)


def _kept(vendor: str, headers) -> dict[str, str]:
    return {name: headers[name] for name in KEPT_HEADERS[vendor] if headers.get(name) is not None}


class WebhookReceiver:
    """The receiver's logic and its threaded HTTP server (bound at construction; start() serves)."""

    def __init__(self, landing_root: Path | str, secrets: WebhookSecrets, *, host: str = "127.0.0.1",
                 port: int = 0, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 stripe_tolerance_seconds: float = signatures.STRIPE_DEFAULT_TOLERANCE_SECONDS,
                 clock: Callable[[], float] = time.time):
        self.store = EventStore(landing_root)
        self._secrets = secrets
        self.max_body_bytes = max_body_bytes
        self.stripe_tolerance_seconds = stripe_tolerance_seconds
        self._clock = clock
        self.outcomes: Counter = Counter()  # (vendor, stored|duplicate|rejected|failed) -> deliveries
        self._lock = threading.Lock()
        handler = type("Handler", (_WebhookHandler,), {"receiver": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"WebhookReceiver({self.base_url!r}, {self.store!r})"

    # ---- the logic ------------------------------------------------------------------------
    def receive(self, vendor: str, headers, body: bytes, path: str) -> Answer:
        """Verify one delivery, store its event(s) once, and say what to answer."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        try:
            events = getattr(self, f"_{vendor}_events")(headers, body, text, path)
        except _Rejected as rejected:
            self._count(vendor, "rejected")
            log.info("%s webhook refused: %s", vendor, rejected)
            return rejected.answer
        try:
            new = [self.store.store(event) for event in events]
        except OSError as error:
            self._count(vendor, "failed")
            log.error("%s webhook not stored (%s): answering 503 so it is retried", vendor, type(error).__name__)
            return _json(503, error="not stored, retry later")
        for event, is_new in zip(events, new):
            self._count(vendor, "stored" if is_new else "duplicate")
            log.info("%s %s %s %s", vendor, event.topic, event.event_id, "stored" if is_new else "duplicate")
        if vendor == "adyen":
            return Answer(200, b"[accepted]", "text/plain")
        return _json(200, received=True, duplicate=not any(new))

    def _count(self, vendor: str, outcome: str) -> None:
        with self._lock:
            self.outcomes[(vendor, outcome)] += 1

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), timezone.utc)

    def _shopify_events(self, headers, body: bytes, text: str | None, path: str) -> list[WebhookEvent]:
        try:
            signatures.verify_shopify(self._secrets.shopify, body, headers.get("X-Shopify-Hmac-Sha256"))
        except signatures.SignatureError as error:
            raise _Rejected(401, str(error)) from None
        event_id = headers.get("X-Shopify-Webhook-Id") or headers.get("X-Shopify-Event-Id")
        topic = headers.get("X-Shopify-Topic")
        if not event_id or not topic:
            raise _Rejected(400, "X-Shopify-Webhook-Id and X-Shopify-Topic are required")
        if text is None:
            raise _Rejected(400, "the body is not UTF-8")
        return [WebhookEvent("shopify", event_id, topic, self._now(), text, path, _kept("shopify", headers))]

    def _stripe_events(self, headers, body: bytes, text: str | None, path: str) -> list[WebhookEvent]:
        try:
            signatures.verify_stripe(self._secrets.stripe, body, headers.get("Stripe-Signature"), self._clock(),
                                     self.stripe_tolerance_seconds)
        except signatures.SignatureError as error:
            raise _Rejected(401, str(error)) from None
        try:
            event = json.loads(text) if text is not None else None
        except ValueError:
            event = None
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event["id"] \
                or not isinstance(event.get("type"), str):
            raise _Rejected(400, "the body is not a Stripe event with an id and a type")
        return [WebhookEvent("stripe", event["id"], event["type"], self._now(), text, path, _kept("stripe", headers))]

    def _adyen_events(self, headers, body: bytes, text: str | None, path: str) -> list[WebhookEvent]:
        try:
            batch = json.loads(text) if text is not None else None
            items = [entry["NotificationRequestItem"] for entry in batch["notificationItems"]]
        except (ValueError, TypeError, KeyError):
            raise _Rejected(400, "the body is not an Adyen notification batch") from None
        if not items:
            raise _Rejected(400, "the notification batch has no items")
        received_at, events = self._now(), []
        for index, item in enumerate(items):
            try:
                # Every item must verify, or none is stored: Adyen resends the batch as a whole.
                signatures.verify_adyen(self._secrets.adyen_hmac_key, item)
            except signatures.SignatureError as error:
                raise _Rejected(401, f"item {index}: {error}") from None
            code, reference, success = item.get("eventCode"), item.get("pspReference"), item.get("success")
            if not all(isinstance(v, str) and v for v in (code, reference, success)):
                raise _Rejected(400, f"item {index} lacks eventCode, pspReference or success")
            events.append(WebhookEvent("adyen", f"{code}:{reference}:{success}", code, received_at, text, path,
                                       _kept("adyen", headers), item_index=index))
        return events

    # ---- the server -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> WebhookReceiver:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="WebhookReceiver", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def serve_forever(self) -> None:
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _WebhookHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = READ_TIMEOUT_SECONDS
    server_version = "omnirecon-webhooks/1.0"
    receiver: WebhookReceiver  # set on the subclass made per server

    def log_message(self, format, *args):  # noqa: A002 - the receiver logs outcomes, without headers
        pass

    def do_GET(self):
        if urlsplit(self.path).path == "/healthz":
            self._answer(Answer(200, b'{"status":"ok"}'))
        else:
            self._answer(_json(404, error="not found"))

    def do_POST(self):
        path = urlsplit(self.path).path
        vendor = ROUTES.get(path)
        if vendor is None:
            self.close_connection = True  # the body is left unread
            return self._answer(_json(404, error="not found"))
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            return self._answer(_json(411, error="Content-Length required"))
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            return self._answer(_json(411, error="Content-Length required"))
        if length < 0 or length > self.receiver.max_body_bytes:
            # Refused before reading: a huge body never reaches memory or disk.
            self.close_connection = True
            return self._answer(_json(413, error=f"body over {self.receiver.max_body_bytes} bytes"))
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return self._answer(_json(400, error="body shorter than Content-Length"))
        try:
            answer = self.receiver.receive(vendor, self.headers, body, path)
        except Exception as error:  # a bug must still answer, and make the vendor retry
            log.exception("%s webhook failed (%s)", vendor, type(error).__name__)
            answer = _json(500, error="internal error")
        self._answer(answer)

    def do_PUT(self):
        self.close_connection = True
        self._answer(_json(405, error="method not allowed"))

    do_DELETE = do_PATCH = do_PUT

    def _answer(self, answer: Answer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.body)


def serve(host: str, port: int, landing_root: Path | str, *, shopify_secret: str | None, stripe_secret: str | None,
          adyen_hmac_key: str | None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
    """Run the receiver until interrupted (`omnirecon webhooks serve`); MissingSecret names the env var to set."""
    secrets = WebhookSecrets(shopify_secret or "", stripe_secret or "", adyen_hmac_key or "")
    receiver = WebhookReceiver(landing_root, secrets, host=host, port=port, max_body_bytes=max_body_bytes)
    log.info("webhook receiver listening on %s, storing under %s", receiver.base_url, receiver.store.root)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
