"""Contract: Shopify's own payloads validate with connectors/shopify/models.py, money read exactly.

The payloads are Shopify's REST Admin API 2026-07 reference examples and the older fixtures of
Shopify's Python SDK, read in place from ../shared/vendor-fixtures/shopify (see SOURCES.md there).
Every order, refund, order transaction, payout and balance transaction in them is validated,
including refunds embedded in orders and transactions embedded in refunds. Left out on purpose:
responses to requests with `fields=` (partial by request) and refunds/calculate (a suggested
refund with no id yet, not a ledger fact).
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from connectors.sandbox.shopify_bulk_operations import graphql_transaction
from connectors.shopify import models
from connectors.shopify.raw_tables import flatten
from tests.vendor_fixtures import vendor_fixture

SHOPIFY_FIXTURES = vendor_fixture("shopify")
CURRENT = "rest-admin-2026-07-examples"
OLD_SDK = "rest-admin-fixtures"

MODELS = {"order": models.Order, "refund": models.Refund, "transaction": models.Transaction,
          "payout": models.Payout, "balance_transaction": models.BalanceTransaction}

# Older SDK fixtures predate fields the models require. The models refuse them rather than invent
# a currency or a refund amount (such a record is quarantined); pinned here so that any change to
# that choice is deliberate.
OLD_PAYLOAD_GAPS = {
    f"{OLD_SDK}/transaction.json transaction": {("currency",)},
    f"{OLD_SDK}/transactions.json transactions[0]": {("currency",)},
    f"{OLD_SDK}/refund.json refund": {("refund_line_items", 0, "subtotal"), ("refund_line_items", 1, "subtotal")},
}


def _responses():
    """(label, request path and query or None, response body) of every stored response."""
    for path in sorted((SHOPIFY_FIXTURES / CURRENT).glob("*.json")):
        for example in json.loads(path.read_text())["examples"]:
            request = example["request"]
            yield (f"{CURRENT}/{path.name}:{example['test']}", f"{request['path']}?{request['query']}",
                   example["response"])
    for path in sorted((SHOPIFY_FIXTURES / OLD_SDK).glob("*.json")):
        body = json.loads(path.read_text())
        # transactions.json is a bare list of order transactions.
        yield f"{OLD_SDK}/{path.name}", None, {"transactions": body} if isinstance(body, list) else body


def _items(label: str, value):
    if isinstance(value, list):
        return [(f"{label}[{i}]", item) for i, item in enumerate(value)]
    return [(label, value)]


def _payloads():
    """(id, kind, payload) for every financial payload, embedded ones included."""
    found = []
    for label, request, body in _responses():
        if not isinstance(body, dict) or (request and ("fields=" in request or "/refunds/calculate" in request)):
            continue
        if label.endswith("refund_calculate.json"):
            continue
        balance = (request or "").find("shopify_payments/balance/transactions") != -1 or label.endswith(
            "payouts_transactions.json")
        for key, value in body.items():
            kind = {"orders": "order", "order": "order", "refunds": "refund", "refund": "refund",
                    "transactions": "balance_transaction" if balance else "transaction",
                    "transaction": "transaction", "payouts": "payout", "payout": "payout"}.get(key)
            if kind is None:
                continue
            for item_label, item in _items(f"{label} {key}", value):
                found.append((item_label, kind, item))
    embedded = []
    for label, kind, item in found:
        if kind == "order":
            for i, refund in enumerate(item.get("refunds") or []):
                embedded.append((f"{label}.refunds[{i}]", "refund", refund))
    for label, kind, item in found + embedded:
        if kind == "refund":
            for i, txn in enumerate(item.get("transactions") or []):
                embedded.append((f"{label}.transactions[{i}]", "transaction", txn))
    return found + embedded


PAYLOADS = _payloads()


def _payload(label: str) -> dict:
    return next(item for item_label, _, item in PAYLOADS if item_label == label)


def test_the_fixtures_hold_every_kind_of_payload():
    counts = {kind: sum(1 for _, k, _ in PAYLOADS if k == kind) for kind in MODELS}
    assert all(counts.values()), counts
    assert counts["balance_transaction"] >= 50 and counts["payout"] >= 10


@pytest.mark.parametrize("kind, payload", [pytest.param(kind, payload, id=label) for label, kind, payload in PAYLOADS
                                            if label not in OLD_PAYLOAD_GAPS])
def test_every_payload_validates(kind, payload):
    MODELS[kind].model_validate(payload)


@pytest.mark.parametrize("label", sorted(OLD_PAYLOAD_GAPS))
def test_old_sdk_payloads_missing_required_money_fields_are_refused(label):
    kind = next(k for item_label, k, _ in PAYLOADS if item_label == label)
    with pytest.raises(ValidationError) as refused:
        MODELS[kind].model_validate(_payload(label))
    assert {tuple(e["loc"]) for e in refused.value.errors()} == OLD_PAYLOAD_GAPS[label]
    assert {e["type"] for e in refused.value.errors()} == {"missing"}


# ---- exact values -------------------------------------------------------------------------------

def test_order_money_is_exact_and_discounts_add_up():
    order = models.Order.model_validate(_payload(f"{CURRENT}/order.json:test_8 order"))
    assert (order.id, order.name, order.currency) == (450789469, "#1001", "USD")
    assert order.total_price == Decimal("598.94") and order.subtotal_price == Decimal("597.00")
    assert order.total_tax == Decimal("11.94") and order.total_discounts == Decimal("10.00")
    assert order.updated_at == datetime.fromisoformat("2008-01-10T16:00:00+00:00")
    assert order.updated_at.utcoffset() == timedelta(hours=-5)
    assert sum((line.discount_amount for line in order.line_items), Decimal("0")) == order.total_discounts
    assert [line.tax_amount for line in order.line_items] == [Decimal("3.98")] * 3
    assert order.line_items[0].tax_lines[0].rate == Decimal("0.06")  # a JSON number, read exactly


def test_refund_line_subtotals_sent_as_json_numbers_are_exact_decimals():
    payload = _payload(f"{CURRENT}/refund.json:test_1 refunds[0]")
    assert isinstance(payload["refund_line_items"][0]["subtotal"], float)  # the quirk under test
    refund = models.Refund.model_validate(payload)
    subtotals = [line.subtotal for line in refund.refund_line_items]
    assert subtotals == [Decimal("195.66"), Decimal("195.67")]
    assert all(s.as_tuple().exponent == -2 for s in subtotals)  # not 195.659999999999996589394868351519107818603515625
    assert sum(subtotals, Decimal("0")) == Decimal("391.33")
    assert [line.total_tax for line in refund.refund_line_items] == [Decimal("3.98"), Decimal("3.98")]


def test_order_transaction_fields():
    txn = models.Transaction.model_validate(_payload(f"{CURRENT}/transaction.json:test_8 transaction"))
    assert (txn.id, txn.order_id, txn.kind, txn.status, txn.currency) == (389404469, 450789469, "authorization",
                                                                          "success", "USD")
    assert txn.amount == Decimal("598.94")
    refund_txn = models.Transaction.model_validate(
        _payload(f"{CURRENT}/refund.json:test_1 refunds[0].transactions[0]"))
    assert (refund_txn.kind, refund_txn.amount, refund_txn.parent_id) == ("refund", Decimal("209.00"), 801038806)


def test_payout_and_balance_transaction_values():
    payout = models.Payout.model_validate(_payload(f"{CURRENT}/payout.json:test_1 payouts[0]"))
    assert (payout.id, payout.status, payout.date, payout.amount) == (512467833, "failed", date(2013, 12, 1),
                                                                       Decimal("43.12"))
    line = models.BalanceTransaction.model_validate(
        _payload(f"{CURRENT}/payment_transaction.json:test_1 transactions[0]"))
    assert (line.id, line.type, line.payout_id, line.source_type) == (716142630, "debit", 623721858, "adjustment")
    assert (line.amount, line.fee, line.net) == (Decimal("-0.75"), Decimal("0.00"), Decimal("-0.75"))
    assert line.amount - line.fee == line.net
    assert line.adjustment_reason == "tax_adjustment"


def test_open_vocabularies_are_accepted():
    lines = [models.BalanceTransaction.model_validate(item) for label, kind, item in PAYLOADS
             if kind == "balance_transaction" and label.startswith(CURRENT)]
    assert {"SHOPIFY_COLLECTIVE_DEBIT_REVERSAL", "charge", "refund", "dispute"} <= {line.type for line in lines}
    assert {"Payments::Refund", "Payments::Dispute", "charge"} <= {line.source_type for line in lines}


def test_unknown_fields_are_accepted_and_ignored():
    payload = {**_payload(f"{CURRENT}/payout.json:test_1 payouts[0]"), "brand_new_field_2027": {"x": [1, 2]}}
    payout = models.Payout.model_validate(payload)
    assert payout.id == 512467833 and not hasattr(payout, "brand_new_field_2027")
    # The 2026-07 payloads already carry fields the models do not declare.
    assert "admin_graphql_api_id" in _payload(f"{CURRENT}/order.json:test_8 order")


def test_each_transaction_read_from_a_bulk_operation_loads_as_its_rest_row():
    # The fake shop renders a REST transaction the way the Admin GraphQL API does; what the bulk file gives
    # must load as the very row REST gives, under the global id Shopify itself names (admin_graphql_api_id).
    transactions = [item for label, kind, item in PAYLOADS if kind == "transaction" and label not in OLD_PAYLOAD_GAPS]
    named = 0
    for txn in transactions:
        node = graphql_transaction(txn)
        if "admin_graphql_api_id" in txn:
            assert node["id"] == txn["admin_graphql_api_id"]
            named += 1
        line = {"id": f"gid://shopify/Order/{txn['order_id']}", "transactions": [node]}
        assert flatten("order_transactions", line) == flatten("transactions", txn)
    assert len(transactions) >= 30 and named >= 30, (len(transactions), named)
