"""Square's own OpenAPI examples and schemas, read with connectors/square models and raw-table flattening.

Every stored Order, Payment and PaymentRefund example (in responses and webhook events) must parse
and flatten; the fields the models read must exist in Square's schemas under the same name, so a
renamed field cannot silently read as None.
"""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from connectors.square import models, raw_tables
from tests.vendor_fixtures import vendor_fixture

EXAMPLES = json.loads(vendor_fixture("square", "api_examples_subset.json").read_text())["examples"]
SCHEMAS = json.loads(vendor_fixture("square", "api_schemas_subset.json").read_text())["components"]["schemas"]
TERMINAL_REFUNDS = {"CancelTerminalRefundResponse", "CreateTerminalRefundResponse", "DismissTerminalRefundResponse",
                    "GetTerminalRefundResponse", "SearchTerminalRefundsResponse", "TerminalRefundCreatedEvent",
                    "TerminalRefundUpdatedEvent", "CreateTerminalRefundRequest"}


def _objects(kind: str) -> list[tuple[str, dict]]:
    """(example name, object) for every `kind`/`kinds` value in the examples, webhook data included."""
    found = []

    def walk(node, name):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in (kind, kind + "s"):
                    found.extend((name, item) for item in (value if isinstance(value, list) else [value])
                                 if isinstance(item, dict))
                walk(value, name)
        elif isinstance(node, list):
            for item in node:
                walk(item, name)

    for name, example in EXAMPLES.items():
        walk(example, name)
    return found


def _stored(kind: str) -> list[tuple[str, dict]]:
    """Objects Square stored and served back (responses and events), not request bodies."""
    return [(name, obj) for name, obj in _objects(kind) if not name.endswith("Request")]


ORDERS = [(n, o) for n, o in _stored("order") if "id" in o]
PAYMENTS = _stored("payment")
REFUNDS = [(n, r) for n, r in _stored("refund") if n not in TERMINAL_REFUNDS]
EVENTS = [(name, example) for name, example in EXAMPLES.items() if name.endswith("Event")]


def test_the_fixtures_hold_enough_examples():
    assert len(ORDERS) >= 7 and len(PAYMENTS) >= 8 and len(REFUNDS) >= 5 and len(EVENTS) >= 30


@pytest.mark.parametrize("name,order", ORDERS, ids=[n for n, _ in ORDERS])
def test_every_stored_order_parses_and_flattens(name, order):
    rows = raw_tables.flatten("orders", order)
    assert rows["orders"][0]["id"] == order["id"]
    assert len(rows["order_line_items"]) == len(order.get("line_items", []))
    assert len(rows["order_tenders"]) == len(order.get("tenders", []))
    for row, item in zip(rows["order_line_items"], order.get("line_items", [])):
        assert row["quantity"] == Decimal(item["quantity"])
        assert row["total_money"] == (item.get("total_money") or {}).get("amount")
    if "total_money" in order:
        assert rows["orders"][0]["total_money"] == order["total_money"]["amount"]
        assert rows["orders"][0]["currency"] == order["total_money"]["currency"]


def test_an_order_without_an_id_is_a_calculation_not_a_stored_order():
    calculated = EXAMPLES["CalculateOrderResponse"]["order"]
    assert "id" not in calculated
    with pytest.raises(ValidationError):
        raw_tables.flatten("orders", calculated)


def test_order_amounts_are_exact_minor_units():
    order = models.Order.model_validate(EXAMPLES["RetrieveOrderResponse"]["order"])
    assert [li.quantity for li in order.line_items] == [Decimal("1"), Decimal("2")]
    assert order.total_discount_money.amount == 550 and order.total_money.major == Decimal("5.50")
    second = order.line_items[1]
    assert (second.gross_sales_money.amount, second.total_discount_money.amount, second.total_money.amount) == \
        (600, 300, 300)
    assert order.net_amounts.discount_money.amount == 550


def test_tenders_point_at_their_payments():
    order = models.Order.model_validate(EXAMPLES["PayOrderResponse"]["order"])
    assert [(t.type, t.amount_money.amount, t.payment_id == t.id) for t in order.tenders] == \
        [("CARD", 1000, True), ("CARD", 1000, True)]


@pytest.mark.parametrize("name,payment", PAYMENTS, ids=[n for n, _ in PAYMENTS])
def test_every_stored_payment_parses_and_flattens(name, payment):
    row = raw_tables.flatten("payments", payment)["payments"][0]
    assert row["id"] == payment["id"]
    assert row["amount_money"] == payment["amount_money"]["amount"]
    assert row["currency"] == payment["amount_money"]["currency"]
    assert row["total_money"] == payment.get("total_money", {}).get("amount")
    assert row["source_type"] == payment.get("source_type")


def test_payment_money_and_fees_are_exact():
    payment = models.Payment.model_validate(EXAMPLES["GetPaymentResponse"]["payment"])
    assert payment.amount_money.major == Decimal("5.55")
    assert payment.processing_fee_amount == 34
    cancelled = models.Payment.model_validate(EXAMPLES["CancelPaymentResponse"]["payment"])
    assert (cancelled.amount_money.amount, cancelled.tip_money.amount, cancelled.total_money.amount) == \
        (1000, 100, 1100)


@pytest.mark.parametrize("name,refund", REFUNDS, ids=[n for n, _ in REFUNDS])
def test_every_stored_payment_refund_parses_and_flattens(name, refund):
    row = raw_tables.flatten("refunds", refund)["refunds"][0]
    assert (row["id"], row["payment_id"], row["amount_money"]) == \
        (refund["id"], refund.get("payment_id"), refund["amount_money"]["amount"])


def test_a_refund_gives_its_processing_fee_back_as_a_negative_amount():
    refund = models.PaymentRefund.model_validate(EXAMPLES["GetPaymentRefundResponse"]["refund"])
    assert refund.processing_fee_amount == -34 and refund.amount_money.amount == 555


@pytest.mark.parametrize("name,event", EVENTS, ids=[n for n, _ in EVENTS])
def test_every_webhook_event_parses_with_its_data_object(name, event):
    parsed = models.WebhookEvent.model_validate(event)
    assert parsed.type == event["type"] and parsed.data.id == event["data"]["id"]
    payload = parsed.payload()
    # (Square's payment.created example names another payment in data.id than in its object: the
    # object's own id is what identifies the record.)
    if event["type"].startswith("payment."):
        assert isinstance(payload, models.Payment) and payload.id == event["data"]["object"]["payment"]["id"]
    elif event["type"].startswith("refund."):
        assert isinstance(payload, models.PaymentRefund) and payload.id == event["data"]["object"]["refund"]["id"]
    elif event["type"] in ("order.created", "order.updated"):
        assert isinstance(payload, models.OrderEventSummary) and payload.order_id == event["data"]["id"]
        assert payload.version >= 1


# Our model -> Square's schema of the same object: every field we read is a field Square defines.
MODEL_SCHEMAS: list[tuple[type[BaseModel], str]] = [
    (models.Money, "Money"), (models.ProcessingFee, "ProcessingFee"), (models.Order, "Order"),
    (models.OrderLineItem, "OrderLineItem"), (models.OrderLineItemDiscount, "OrderLineItemDiscount"),
    (models.OrderLineItemTax, "OrderLineItemTax"),
    (models.OrderLineItemAppliedDiscount, "OrderLineItemAppliedDiscount"), (models.Tender, "Tender"),
    (models.TenderCardDetails, "TenderCardDetails"), (models.TenderCashDetails, "TenderCashDetails"),
    (models.TenderCard, "Card"), (models.OrderReturn, "OrderReturn"),
    (models.OrderReturnLineItem, "OrderReturnLineItem"), (models.OrderMoneyAmounts, "OrderMoneyAmounts"),
    (models.OrderSource, "OrderSource"), (models.Payment, "Payment"), (models.Card, "Card"),
    (models.CardPaymentDetails, "CardPaymentDetails"), (models.CashPaymentDetails, "CashPaymentDetails"),
    (models.ExternalPaymentDetails, "ExternalPaymentDetails"), (models.PaymentRefund, "PaymentRefund"),
    (models.DestinationDetails, "DestinationDetails"), (models.Address, "Address"),
]


@pytest.mark.parametrize("model,schema", MODEL_SCHEMAS, ids=[s for _, s in MODEL_SCHEMAS])
def test_model_fields_exist_in_squares_schema(model, schema):
    properties = set(SCHEMAS[schema]["properties"])
    assert set(model.model_fields) - properties == set()


def test_the_sandbox_tender_and_payment_kinds_are_squares():
    assert {"THIRD_PARTY_CARD", "CASH", "SQUARE_GIFT_CARD"} <= set(SCHEMAS["TenderType"]["enum"])
    assert {"EXTERNAL", "CASH", "CARD"} <= set(
        word.strip("`,. ") for word in SCHEMAS["Payment"]["properties"]["source_type"]["description"].split())
    assert {"RATE_LIMITED", "UNAUTHORIZED", "INVALID_CURSOR", "INSUFFICIENT_SCOPES"} <= set(
        SCHEMAS["ErrorCode"]["enum"])
