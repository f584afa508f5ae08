"""How Shopify, Stripe and Adyen sign webhook deliveries, and how to check them.

- Shopify: `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(app client secret, raw body)). Only the
  exact bytes received verify: a body re-serialised after parsing does not.
- Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`, each v1 being
  hex(HMAC-SHA256(endpoint secret, f"{t}.{raw body}")). Several v1 entries appear while a secret
  is rolled; one match is enough. The timestamp is signed too, so a replayed delivery older than
  the tolerance (Stripe's libraries default to 300 s) is refused; we also refuse one from too far
  in the future, which only a skewed clock or a forgery produces.
- Adyen (standard webhooks): each notification item carries `additionalData.hmacSignature`,
  base64(HMAC-SHA256(hex-decoded key, "pspReference:originalReference:merchantAccountCode:
  merchantReference:value:currency:eventCode:success")), absent fields as empty strings. The
  signature covers those fields only, not the whole body.

Comparisons are constant time (hmac.compare_digest). A SignatureError says why a delivery was
refused, never with the secret or the expected signature in it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime

STRIPE_DEFAULT_TOLERANCE_SECONDS = 300
ADYEN_SIGNED_FIELDS = ("pspReference", "originalReference", "merchantAccountCode", "merchantReference",
                       "value", "currency", "eventCode", "success")


class SignatureError(Exception):
    """A delivery whose signature is missing, malformed, wrong or stale. The message is safe to return."""


def _key(secret: str | bytes) -> bytes:
    if not secret:
        raise SignatureError("no signing secret configured")
    return secret.encode() if isinstance(secret, str) else secret


# ---- Shopify --------------------------------------------------------------------------------

def sign_shopify(secret: str | bytes, body: bytes) -> str:
    """The X-Shopify-Hmac-Sha256 value Shopify sends with `body`."""
    return base64.b64encode(hmac.new(_key(secret), body, hashlib.sha256).digest()).decode()


def verify_shopify(secret: str | bytes, body: bytes, header: str | None) -> None:
    """Raise SignatureError unless `header` is Shopify's HMAC of exactly `body`."""
    if not header:
        raise SignatureError("missing X-Shopify-Hmac-Sha256 header")
    try:
        received = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("X-Shopify-Hmac-Sha256 is not base64") from None
    expected = hmac.new(_key(secret), body, hashlib.sha256).digest()
    if not hmac.compare_digest(received, expected):
        raise SignatureError("X-Shopify-Hmac-Sha256 does not match the body")


# ---- Stripe ---------------------------------------------------------------------------------

def stripe_signature(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """One v1 signature: hex HMAC-SHA256 of "<timestamp>.<body>"."""
    return hmac.new(_key(secret), str(int(timestamp)).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign_stripe(secret: str | bytes, body: bytes, timestamp: int, *extra_secrets: str | bytes) -> str:
    """The Stripe-Signature header value; extra secrets add v1 entries, as during a secret roll."""
    entries = [f"t={int(timestamp)}"] + [f"v1={stripe_signature(s, body, timestamp)}"
                                         for s in (secret, *extra_secrets)]
    return ",".join(entries)


def _unix(now: datetime | float | int) -> float:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        return now.timestamp()
    return float(now)


def verify_stripe(secret: str | bytes, body: bytes, header: str | None, now: datetime | float,
                  tolerance: float = STRIPE_DEFAULT_TOLERANCE_SECONDS) -> int:
    """Raise SignatureError unless one v1 entry signs `body` with a timestamp within `tolerance`
    seconds of `now`; returns the signed timestamp (Unix seconds)."""
    if not header:
        raise SignatureError("missing Stripe-Signature header")
    timestamp, signatures = None, []
    for element in header.split(","):
        prefix, _, value = element.strip().partition("=")
        if prefix == "t":
            timestamp = value
        elif prefix == "v1":  # v0 and future schemes are ignored, as Stripe's libraries do
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit():
        raise SignatureError("Stripe-Signature has no valid timestamp")
    if not signatures:
        raise SignatureError("Stripe-Signature has no v1 signature")
    expected = stripe_signature(secret, body, int(timestamp)).encode()
    # Check every entry (no early exit) so timing does not tell which one matched.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(candidate.encode(), expected)
    if not matched:
        raise SignatureError("no Stripe-Signature v1 entry matches the body")
    age = _unix(now) - int(timestamp)
    if age > tolerance:
        raise SignatureError(f"Stripe-Signature timestamp is {int(age)} s old, more than the {int(tolerance)} s tolerance")
    if -age > tolerance:
        raise SignatureError(f"Stripe-Signature timestamp is {int(-age)} s in the future, more than the "
                             f"{int(tolerance)} s tolerance")
    return int(timestamp)


# ---- Adyen ----------------------------------------------------------------------------------

def _adyen_key(hex_key: str) -> bytes:
    if not hex_key:
        raise SignatureError("no Adyen HMAC key configured")
    try:
        return binascii.unhexlify(hex_key)
    except (binascii.Error, ValueError):
        raise SignatureError("the Adyen HMAC key is not hexadecimal") from None


def adyen_signing_string(item: dict) -> str:
    """The text Adyen signs for one NotificationRequestItem."""
    amount = item.get("amount") or {}
    values = {**item, "value": amount.get("value"), "currency": amount.get("currency")}
    return ":".join("" if values.get(name) is None else str(values[name]) for name in ADYEN_SIGNED_FIELDS)


def sign_adyen(hex_key: str, item: dict) -> str:
    """The additionalData.hmacSignature Adyen puts on `item`."""
    digest = hmac.new(_adyen_key(hex_key), adyen_signing_string(item).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_adyen(hex_key: str, item: dict) -> None:
    """Raise SignatureError unless the item's hmacSignature is Adyen's signature of its fields."""
    received = ((item.get("additionalData") or {}).get("hmacSignature")) if isinstance(item, dict) else None
    if not isinstance(received, str) or not received:
        raise SignatureError("notification item has no additionalData.hmacSignature")
    if not hmac.compare_digest(received.encode(), sign_adyen(hex_key, item).encode()):
        raise SignatureError("additionalData.hmacSignature does not match the notification item")
