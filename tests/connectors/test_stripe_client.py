"""The Stripe connector against the fake Stripe API on loopback: real HTTP, no mocks.

Covers starting_after/has_more pagination, filters (payout, created and arrival_date ranges),
the pinned Stripe-Version, throttling (429 + Retry-After), auth errors that never echo the key,
retries of 5xx and connection errors, and Stripe's 400s for bad parameters.
"""
from __future__ import annotations

import logging
import socket
from datetime import datetime, timezone

import pytest
import requests

from connectors.sandbox.stripe_api import FakeStripeAPI, StripeStore
from connectors.stripe import raw_tables
from connectors.stripe.client import StripeAPIError, StripeClient

KEY = "sk_test_51Fake0123456789abcdefXYZ9"
T0 = 1_790_000_000  # 2026-09-21T... UTC
CHARGE_COUNT = 23


def _store() -> StripeStore:
    charges, txns, payout_of = [], [], {}
    for n in range(CHARGE_COUNT):
        created = T0 + n * 60 - (n % 3) * 60  # ties in `created` on purpose: id breaks them
        charges.append({"id": f"ch_{n:04d}", "object": "charge", "amount": 1000 + n, "currency": "usd",
                        "status": "succeeded", "captured": True, "paid": True, "created": created,
                        "balance_transaction": f"txn_{n:04d}", "metadata": {"order_id": str(5000 + n)}})
        txns.append({"id": f"txn_{n:04d}", "object": "balance_transaction", "amount": 1000 + n, "fee": 59,
                     "net": 941 + n, "currency": "usd", "type": "charge", "reporting_category": "charge",
                     "status": "available", "created": created, "available_on": created + 86_400,
                     "source": f"ch_{n:04d}", "fee_details": []})
        payout_of[f"txn_{n:04d}"] = "po_A" if n < 14 else "po_B"
    totals = {pid: sum(t["net"] for t in txns if payout_of[t["id"]] == pid) for pid in ("po_A", "po_B")}
    payouts = [{"id": pid, "object": "payout", "amount": totals.get(pid, 0), "currency": "usd", "status": "paid",
                "created": T0 + 86_400 * day, "arrival_date": T0 + 86_400 * (day + 2), "automatic": True,
                "type": "bank_account", "method": "standard"}
               for pid, day in (("po_A", 1), ("po_B", 2), ("po_C", 5))]  # arrive on days 3, 4 and 7
    charges.reverse()  # stored out of order on purpose
    return StripeStore(balance_transactions=txns, payouts=payouts, charges=charges, payout_of=payout_of)


@pytest.fixture
def store() -> StripeStore:
    return _store()


@pytest.fixture
def api(store):
    with FakeStripeAPI(store, KEY) as running:
        yield running


def _client(api: FakeStripeAPI, key: str = KEY, **options) -> StripeClient:
    options = {"backoff_seconds": 0.001, "max_retries": 3, "timeout": 5, **options}
    return StripeClient(api.base_url, key, **options)


def _newest_first(records: list[dict]) -> list[str]:
    return [r["id"] for r in sorted(records, key=lambda r: (r["created"], r["id"]), reverse=True)]


# ---- pagination -------------------------------------------------------------------------------

def test_pages_follow_starting_after_and_return_every_record_once_newest_first(api, store):
    pages = list(_client(api).list_pages("/v1/charges", {"limit": 5}))

    assert [len(p.records) for p in pages] == [5, 5, 5, 5, 3]
    assert [p.has_more for p in pages] == [True] * 4 + [False]
    ids = [r["id"] for p in pages for r in p.records]
    assert ids == _newest_first(store.charges) and len(set(ids)) == CHARGE_COUNT
    first, *following = api.request_log
    assert first.query == {"limit": "5"} and first.path == "/v1/charges"
    assert [r.query["starting_after"] for r in following] == [p.records[-1]["id"] for p in pages[:-1]]
    assert all(r.stripe_version == "2023-08-16" and r.status == 200 for r in api.request_log)


def test_the_list_envelope_is_stripes(api):
    response = requests.get(f"{api.base_url}/v1/charges", params={"limit": 2},
                            headers={"Authorization": f"Bearer {KEY}", "Stripe-Version": "2023-08-16"})
    body = response.json()
    assert set(body) == {"object", "data", "has_more", "url"}
    assert (body["object"], body["url"], body["has_more"], len(body["data"])) == ("list", "/v1/charges", True, 2)
    assert response.headers["Request-Id"].startswith("req_")


def test_balance_transactions_of_one_payout(api, store):
    client = _client(api)
    in_a = client.balance_transactions(payout="po_A", limit=4)
    in_b = client.balance_transactions(payout="po_B")

    assert [t["id"] for t in in_a] == _newest_first([t for t in store.balance_transactions
                                                     if store.payout_of[t["id"]] == "po_A"])
    assert len(in_a) == 14 and len(in_b) == CHARGE_COUNT - 14
    assert sum(t["net"] for t in in_b) == next(p["amount"] for p in store.payouts if p["id"] == "po_B")
    assert all(r.query.get("payout") == "po_A" for r in api.request_log[:4])  # filters ride along every page
    rows = raw_tables.flatten("balance_transactions", in_a[0], payout_id="po_A")["balance_transactions"]
    assert rows[0]["payout_id"] == "po_A" and rows[0]["amount"] == in_a[0]["amount"]


def test_time_ranges_are_unix_seconds_gte_inclusive_lt_exclusive(api, store):
    client = _client(api)
    day3 = T0 + 86_400 * 3
    for low in (day3, datetime.fromtimestamp(day3, tz=timezone.utc)):  # Unix seconds or an aware datetime
        arriving = client.payouts(arrival_date_gte=low, arrival_date_lt=T0 + 86_400 * 7)
        assert [p["id"] for p in arriving] == ["po_B", "po_A"]  # day 3 is in (gte), day 7 is out (lt)
    assert [p["id"] for p in client.payouts(arrival_date_gte=day3 + 1)] == ["po_C", "po_B"]
    assert [p["id"] for p in client.payouts(created_lt=T0 + 86_400 * 2)] == ["po_A"]
    created = client.charges(created_gte=T0 + 600, created_lt=T0 + 1200)
    assert sorted(c["created"] for c in created) == sorted(
        c["created"] for c in store.charges if T0 + 600 <= c["created"] < T0 + 1200)
    assert api.request_log[-1].query["created[gte]"] == str(T0 + 600)
    with pytest.raises(ValueError):
        client.charges(created_gte=datetime(2026, 1, 1))  # naive: refused, not guessed


# ---- errors and retries -----------------------------------------------------------------------

def test_a_rate_limited_request_waits_retry_after_then_succeeds(api, store, caplog):
    api.fail_next(2, 429, retry_after=0.01)
    with caplog.at_level(logging.WARNING, logger="connectors.stripe.client"):
        payouts = _client(api, backoff_seconds=5).payouts()  # a 5 s backoff would blow the test: Retry-After wins

    assert len(payouts) == len(store.payouts)
    assert [r.status for r in api.request_log] == [429, 429, 200]
    assert "HTTP 429" in caplog.text and KEY not in caplog.text


def test_a_wrong_key_fails_at_once_with_a_clear_error_that_never_shows_it(api, caplog):
    wrong = "sk_test_51WrongKey9876543210zyxwQRST"
    client = _client(api, key=wrong)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StripeAPIError) as failed:
        list(client.list_pages("/v1/charges"))

    error = failed.value
    assert error.status == 401 and error.error_type == "invalid_request_error" and error.request_id
    assert "rejected the API key" in str(error) and "Invalid API Key provided" in str(error)
    assert len(api.request_log) == 1  # not retried
    for text in (str(error), repr(error), error.body, repr(client), caplog.text):
        assert wrong not in text and KEY not in text and wrong[-4:] not in text


def test_server_errors_exhausting_retries_raise_a_stripe_api_error(api):
    api.fail_next(10, 503)
    with pytest.raises(StripeAPIError) as failed:
        _client(api, max_retries=2).charges()
    assert failed.value.status == 503 and failed.value.error_type == "api_error"
    assert "still failing after 2 retries (HTTP 503)" in str(failed.value)
    assert [r.status for r in api.request_log] == [503, 503, 503]


def test_server_errors_are_retried_then_succeed(api, store):
    api.fail_next(2, 500)
    assert len(_client(api).charges()) == CHARGE_COUNT
    assert [r.status for r in api.request_log][:3] == [500, 500, 200]


def test_an_unreachable_api_is_retried_then_reported():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = StripeClient(f"http://127.0.0.1:{port}", KEY, max_retries=1, backoff_seconds=0.001, timeout=1)
    with pytest.raises(StripeAPIError) as failed:
        client.payouts()
    assert failed.value.status is None and "ConnectionError" in str(failed.value) and KEY not in str(failed.value)


@pytest.mark.parametrize("params, param", [
    ({"limit": 101}, "limit"), ({"limit": 0}, "limit"), ({"limit": "ten"}, "limit"),
    ({"starting_after": "ch_nope"}, "starting_after"), ({"colour": "blue"}, "colour"),
    ({"created[gte]": "yesterday"}, "created[gte]"),
])
def test_bad_parameters_are_a_400_naming_the_parameter_and_not_retried(api, params, param):
    with pytest.raises(StripeAPIError) as failed:
        list(_client(api).list_pages("/v1/charges", params))
    assert failed.value.status == 400 and failed.value.error_type == "invalid_request_error"
    assert len(api.request_log) == 1
    assert api.request_log[0].status == 400


def test_an_unknown_payout_is_refused(api):
    with pytest.raises(StripeAPIError) as failed:
        _client(api).balance_transactions(payout="po_missing")
    assert failed.value.status == 400 and failed.value.code == "resource_missing"


def test_the_stripe_version_header_is_required_and_pinned(api):
    response = requests.get(f"{api.base_url}/v1/charges", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "Stripe-Version"
    _client(api, stripe_version="2024-06-20").payouts()
    assert api.request_log[-1].stripe_version == "2024-06-20"


def test_ending_before_pages_back_towards_newer_records(api, store):
    newest_first = _newest_first(store.charges)
    response = requests.get(f"{api.base_url}/v1/charges", params={"ending_before": newest_first[10], "limit": 3},
                            headers={"Authorization": f"Bearer {KEY}", "Stripe-Version": "2023-08-16"})
    body = response.json()
    assert [c["id"] for c in body["data"]] == newest_first[7:10] and body["has_more"] is True
