"""Pushing posting batches to the fake ERP on loopback (real HTTP, no mocks): posted once with the batch id as
Idempotency-Key, a second push is a duplicate with the same journal number, refusals carry the ERP's
message, 5xx is retried, and a bad token fails clearly without the token in sight."""
from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest

from connectors.erp.client import ErpAPIError, ErpClient
from connectors.erp.journal_push import PushOutcome, journal_batch, push_batch, push_batches
from connectors.sandbox.channels import erp
from connectors.sandbox.erp_api import FakeErpAPI
from connectors.sandbox.world import World

TOKEN = "erp_tok_push_5e6f7a8b9c0d1e2f"
BATCH_ID = "SJ-0123456789abcdef"


@pytest.fixture
def api():
    world = World(seed=3, start_date=date(2026, 11, 2), days=1)
    with FakeErpAPI(erp.simulate(world), TOKEN) as running:
        yield running


def _client(api, token: str = TOKEN) -> ErpClient:
    return ErpClient(api.base_url + "/api/v1", token, backoff_seconds=0.001, max_retries=3, timeout=5)


def _batch(batch_id: str = BATCH_ID, amount: str = "125.40", fees: str = "3.64", clearing: str = "1150") -> dict:
    net = format(Decimal(amount) - Decimal(fees), "f")
    return {"batch_id": batch_id, "legal_entity_id": "US01", "journal_type": "settlement", "provider": "shopify",
            "payout_id": "po_123", "posting_date": "2026-11-02", "currency": "USD", "total_debit": amount,
            "total_credit": amount, "line_count": 3, "status": "ready",
            "lines": [{"line_number": 1, "posting_role": "bank", "account_code": "1010",
                       "description": "Payout po_123 deposited to bank", "debit_amount": net, "credit_amount": "0.00",
                       "currency": "USD"},
                      {"line_number": 2, "posting_role": "clearing", "account_code": clearing,
                       "description": "Sales and refunds settled in payout po_123", "debit_amount": "0.00",
                       "credit_amount": amount, "currency": "USD"},
                      {"line_number": 3, "posting_role": "fees", "account_code": "6150",
                       "description": "Fees withheld from payout po_123", "debit_amount": fees,
                       "credit_amount": "0.00", "currency": "USD"}]}


def _posts(api) -> list:
    return [r for r in api.request_log if r.method == "POST"]


def test_the_first_push_posts_and_a_second_is_a_duplicate_with_the_same_number(api):
    client = _client(api)
    first = push_batch(client, _batch())
    assert first == PushOutcome(BATCH_ID, "posted", "JB-000001", "posted as JB-000001")
    again = push_batch(client, _batch())
    assert (again.batch_id, again.status, again.document_number) == (BATCH_ID, "duplicate", "JB-000001")
    assert list(api.posted) == [BATCH_ID]  # the ERP holds it once
    stored = api.posted[BATCH_ID]
    assert (stored["totalDebit"], stored["lineCount"], stored["legalEntityId"]) == ("125.40", 3, "US01")
    assert [(r.status, r.idempotency_key) for r in _posts(api)] == [(201, BATCH_ID), (200, BATCH_ID)]


def test_the_request_body_is_the_batch_in_the_erps_shape():
    body = journal_batch(_batch()).to_json()
    assert {k: body[k] for k in ("batchId", "legalEntityId", "postingDate", "currency")} == {
        "batchId": BATCH_ID, "legalEntityId": "US01", "postingDate": "2026-11-02", "currency": "USD"}
    assert body["description"] == f"shopify settlement payout po_123 ({BATCH_ID})"
    assert body["lines"][0] == {"accountCode": "1010", "debit": "121.76", "credit": "0.00",
                                "memo": "Payout po_123 deposited to bank", "sourceRef": f"{BATCH_ID}#1"}
    assert [line["credit"] for line in body["lines"]] == ["0.00", "125.40", "0.00"]


def test_a_500_then_success_is_retried_under_the_same_key(api, caplog):
    api.fail_next(1, 500)
    with caplog.at_level(logging.WARNING):
        outcome = push_batch(_client(api), _batch())
    assert (outcome.status, outcome.document_number) == ("posted", "JB-000001")
    assert [(r.status, r.idempotency_key) for r in _posts(api)] == [(500, BATCH_ID), (201, BATCH_ID)]
    assert len(api.posted) == 1 and TOKEN not in caplog.text


def test_5xx_beyond_the_retries_raises_and_nothing_is_posted(api):
    api.fail_next(4, 503)
    with pytest.raises(ErpAPIError) as outage:
        push_batch(_client(api), _batch())
    assert outage.value.status == 503 and "after 3 retries" in str(outage.value)
    assert api.posted == {}
    assert push_batch(_client(api), _batch()).status == "posted"  # run again once the ERP is back


def test_a_bad_token_fails_clearly_without_the_secret(api):
    stolen = "erp_tok_expired_0000111122223333"
    with pytest.raises(ErpAPIError) as rejected:
        push_batch(_client(api, stolen), _batch())
    error = rejected.value
    assert error.status == 401 and "rejected the API token" in str(error)
    for secret in (stolen, TOKEN):
        assert secret not in str(error) + error.body + repr(error)
    assert api.posted == {}


def test_batches_the_erp_refuses_are_refused_with_its_message(api):
    client = _client(api)
    unknown = push_batch(client, _batch("SJ-unknown-account", clearing="1999"))
    assert (unknown.status, unknown.document_number) == ("refused", None)
    assert unknown.message == "UnknownAccount: unknown account code 1999 (HTTP 422)"
    assert push_batch(client, _batch()).status == "posted"
    changed = push_batch(client, _batch(amount="130.00"))  # same batch id, other content
    assert changed.status == "refused" and changed.message.startswith("IdempotencyKeyReused: ")
    assert "HTTP 409" in changed.message
    assert list(api.posted) == [BATCH_ID] and api.posted[BATCH_ID]["totalDebit"] == "125.40"


def test_an_unbalanced_batch_is_refused_before_it_is_sent(api):
    unbalanced = _batch()
    unbalanced["lines"][2]["debit_amount"] = "3.65"
    outcome = push_batch(_client(api), unbalanced)
    assert outcome.status == "refused" and outcome.message.startswith("not sent: ")
    assert "does not balance" in outcome.message
    assert _posts(api) == [] and api.posted == {}


def test_push_batches_goes_on_after_a_refusal(api):
    outcomes = push_batches(_client(api), [_batch("SJ-a"), _batch("SJ-b", clearing="1999"), _batch("SJ-c"),
                                           _batch("SJ-a")])
    assert [(o.batch_id, o.status, o.document_number) for o in outcomes] == [
        ("SJ-a", "posted", "JB-000001"), ("SJ-b", "refused", None), ("SJ-c", "posted", "JB-000002"),
        ("SJ-a", "duplicate", "JB-000001")]
    assert sorted(api.posted) == ["SJ-a", "SJ-c"]
