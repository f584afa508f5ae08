"""Webhook signatures: Shopify, Stripe and Adyen schemes accept what the vendor signs and nothing else."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone

import pytest

from connectors.webhooks.signatures import (SignatureError, adyen_signing_string, sign_adyen, sign_shopify,
                                            sign_stripe, verify_adyen, verify_shopify, verify_stripe)

SHOPIFY_SECRET = "shpss_client_secret_0123"
STRIPE_SECRET = "whsec_test_secret_4567"
BODY = b'{"id":820982911946154508,"total_price":"199.65"}'
NOW = 1_790_000_000


def test_shopify_signature_is_base64_hmac_of_the_raw_body():
    expected = base64.b64encode(hmac.new(SHOPIFY_SECRET.encode(), BODY, hashlib.sha256).digest()).decode()
    assert sign_shopify(SHOPIFY_SECRET, BODY) == expected
    verify_shopify(SHOPIFY_SECRET, BODY, expected)


@pytest.mark.parametrize("body, secret, header, reason", [
    (BODY.replace(b"199.65", b"199.66"), SHOPIFY_SECRET, None, "does not match"),
    (BODY, "another_secret", None, "does not match"),
    (BODY, SHOPIFY_SECRET, "", "missing"),
    (BODY, SHOPIFY_SECRET, "not base64!", "not base64"),
])
def test_shopify_refuses_tampered_body_wrong_secret_and_missing_header(body, secret, header, reason):
    signed = sign_shopify(SHOPIFY_SECRET, BODY)
    with pytest.raises(SignatureError, match=reason) as refused:
        verify_shopify(secret, body, signed if header is None else header)
    assert SHOPIFY_SECRET not in str(refused.value) and signed not in str(refused.value)


def test_stripe_signature_signs_timestamp_dot_body():
    header = sign_stripe(STRIPE_SECRET, BODY, NOW)
    expected = hmac.new(STRIPE_SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert verify_stripe(STRIPE_SECRET, BODY, header, NOW + 10) == NOW
    assert verify_stripe(STRIPE_SECRET, BODY, header, datetime.fromtimestamp(NOW, timezone.utc)) == NOW


@pytest.mark.parametrize("now, reason", [(NOW + 301, "301 s old"), (NOW - 301, "in the future")])
def test_stripe_refuses_a_timestamp_outside_the_tolerance(now, reason):
    header = sign_stripe(STRIPE_SECRET, BODY, NOW)
    with pytest.raises(SignatureError, match=reason):
        verify_stripe(STRIPE_SECRET, BODY, header, now)
    assert verify_stripe(STRIPE_SECRET, BODY, header, NOW + 300) == NOW  # the edge is still in
    assert verify_stripe(STRIPE_SECRET, BODY, header, NOW + 3600, tolerance=3600) == NOW


def test_stripe_accepts_any_of_several_v1_signatures_during_a_secret_roll():
    rolled = sign_stripe("whsec_old_secret", BODY, NOW, STRIPE_SECRET)
    assert rolled.count("v1=") == 2
    assert verify_stripe(STRIPE_SECRET, BODY, rolled, NOW) == NOW
    assert verify_stripe("whsec_old_secret", BODY, rolled + ",v0=abc", NOW) == NOW
    with pytest.raises(SignatureError, match="no Stripe-Signature v1 entry matches"):
        verify_stripe("whsec_third", BODY, rolled, NOW)


@pytest.mark.parametrize("header, reason", [
    (None, "missing"), ("v1=abc", "no valid timestamp"), (f"t={NOW}", "no v1 signature"),
    ("t=soon,v1=abc", "no valid timestamp"),
])
def test_stripe_refuses_malformed_headers(header, reason):
    with pytest.raises(SignatureError, match=reason):
        verify_stripe(STRIPE_SECRET, BODY, header, NOW)


def test_stripe_refuses_tampered_body_and_wrong_secret_without_revealing_either_secret():
    header = sign_stripe(STRIPE_SECRET, BODY, NOW)
    for body, secret in ((BODY + b" ", STRIPE_SECRET), (BODY, "whsec_wrong")):
        with pytest.raises(SignatureError) as refused:
            verify_stripe(secret, body, header, NOW)
        assert STRIPE_SECRET not in str(refused.value) and "whsec_wrong" not in str(refused.value)


# Adyen's documented example: key, item and the hmacSignature Adyen shows for it.
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
ADYEN_ITEM = {"pspReference": "7914073381342284", "merchantAccountCode": "TestMerchant",
              "merchantReference": "TestPayment-1407325143704", "amount": {"value": 1130, "currency": "EUR"},
              "eventCode": "AUTHORISATION", "success": "true"}


def test_adyen_signature_matches_adyens_documented_example():
    assert adyen_signing_string(ADYEN_ITEM) == \
        "7914073381342284::TestMerchant:TestPayment-1407325143704:1130:EUR:AUTHORISATION:true"
    assert sign_adyen(ADYEN_KEY, ADYEN_ITEM) == "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="
    verify_adyen(ADYEN_KEY, {**ADYEN_ITEM, "additionalData": {"hmacSignature": sign_adyen(ADYEN_KEY, ADYEN_ITEM)}})


def test_adyen_refuses_changed_fields_wrong_key_and_unsigned_items():
    signed = {**ADYEN_ITEM, "additionalData": {"hmacSignature": sign_adyen(ADYEN_KEY, ADYEN_ITEM)}}
    with pytest.raises(SignatureError, match="does not match"):
        verify_adyen(ADYEN_KEY, {**signed, "amount": {"value": 11300, "currency": "EUR"}})
    with pytest.raises(SignatureError, match="does not match"):
        verify_adyen("00" * 32, signed)
    with pytest.raises(SignatureError, match="no additionalData.hmacSignature"):
        verify_adyen(ADYEN_KEY, ADYEN_ITEM)
    with pytest.raises(SignatureError, match="not hexadecimal") as refused:
        verify_adyen("not-a-hex-key", signed)
    assert "not-a-hex-key" not in str(refused.value)
