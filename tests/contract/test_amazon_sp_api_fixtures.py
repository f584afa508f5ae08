"""Contract: Amazon's own SP-API examples (Orders v0, Reports 2021-06-30) read with omnirecon's models.

Every 200 example and every 200 sandbox response of the operations the connector calls is parsed;
the models' required fields are checked against the Swagger models; the documented settlement
report columns are the ones the parser and the sandbox know.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from connectors.amazon import models, raw_tables
from connectors.amazon.settlement_report import _TEXT_COLUMNS, REQUIRED_COLUMNS
from connectors.sandbox.channels import amazon as amazon_channel
from tests.vendor_fixtures import vendor_fixture


def _load(*parts: str):
    return json.loads(vendor_fixture("amazon-sp-api", *parts).read_text())


def _ok_responses(examples_file: str, operation: str) -> list[dict]:
    """Every 200 body of one operation: its `examples` and its sandbox's static responses."""
    response = _load("examples", examples_file)["operations"][operation]["responses"]["200"]
    bodies = list(response.get("examples", {}).values())
    sandbox = response.get("x-amzn-api-sandbox", {}).get("static", [])
    bodies += [pair["response"] for pair in sandbox if "response" in pair]
    assert bodies, f"{operation} has no 200 example"
    return bodies


@pytest.mark.parametrize("body", _ok_responses("ordersV0_examples.json", "getOrders"))
def test_every_get_orders_example_parses_and_flattens(body):
    page = models.OrdersList.model_validate(body["payload"])
    assert page.Orders
    for order in page.Orders:
        assert order.PurchaseDate.tzinfo == timezone.utc and order.LastUpdateDate.tzinfo == timezone.utc
        row = raw_tables.flatten("orders", order.model_dump(mode="json", exclude_none=True))["orders"][0]
        assert row["amazon_order_id"] == order.AmazonOrderId


@pytest.mark.parametrize("body", _ok_responses("ordersV0_examples.json", "getOrder"))
def test_every_get_order_example_parses(body):
    assert models.Order.model_validate(body["payload"]).AmazonOrderId


@pytest.mark.parametrize("body", _ok_responses("ordersV0_examples.json", "getOrderItems"))
def test_every_get_order_items_example_parses_and_every_item_row_names_its_order(body):
    rows = raw_tables.flatten("order_items", body["payload"])["order_items"]
    assert rows and {row["amazon_order_id"] for row in rows} == {body["payload"]["AmazonOrderId"]}


def test_the_extracted_orders_examples_read_exactly():
    orders = models.OrdersList.model_validate(_load("examples", "getOrders.200.json")["payload"])
    first = orders.Orders[0]
    assert (first.AmazonOrderId, first.OrderStatus, first.FulfillmentChannel) == (
        "902-3159896-1390916", "Pending", "MFN")
    assert first.PurchaseDate == datetime(2017, 1, 20, 19, 49, 35, tzinfo=timezone.utc)
    assert orders.NextToken == "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"
    assert first.OrderTotal is None  # a Pending order has no total yet
    assert models.Order.model_validate(_load("examples", "getOrder.200.json")["payload"]).AmazonOrderId

    items = models.OrderItemsList.model_validate(_load("examples", "getOrderItems.200.json")["payload"])
    assert [i.OrderItemId for i in items.OrderItems] == ["68828574383266", "79039765272157"]
    price = items.OrderItems[0].ItemPrice
    assert (price.CurrencyCode, price.Amount) == ("JPY", Decimal("25.99"))
    assert items.OrderItems[1].PromotionIds == ["FREESHIP"]
    row = raw_tables.flatten("order_items", _load("examples", "getOrderItems.200.json")["payload"])["order_items"][0]
    assert (row["item_price"], row["item_price_currency"], row["shipping_price"]) == (Decimal("25.99"), "JPY",
                                                                                     Decimal("1.26"))


@pytest.mark.parametrize("operation", ["getReports", "getReport", "getReportDocument"])
def test_every_reports_example_parses(operation):
    for body in _ok_responses("reports_2021-06-30_examples.json", operation):
        if operation == "getReports":
            listed = models.ReportsList.model_validate(body)
            assert listed.reports and listed.nextToken
        elif operation == "getReport":
            report = models.Report.model_validate(body)
            assert report.processingStatus in models.PROCESSING_STATUSES
        else:
            assert models.ReportDocument.model_validate(body).url.startswith("https://")


def test_the_extracted_reports_examples_read_exactly():
    listed = models.ReportsList.model_validate(_load("examples", "getReports.200.json"))
    report = listed.reports[0]
    assert report.createdTime == datetime(2024, 3, 10, 13, 47, 20, 677000, tzinfo=timezone.utc)
    assert report.reportDocumentId is None  # IN_PROGRESS: no document yet
    document = models.ReportDocument.model_validate(_load("examples", "getReportDocument.200.json"))
    assert document.reportDocumentId == "0356cf79-b8b0-4226-b4b9-0ee058ea5760" and document.compressionAlgorithm is None


@pytest.mark.parametrize("definitions_file, definition, model", [
    ("ordersV0.json", "Order", models.Order), ("ordersV0.json", "OrderItem", models.OrderItem),
    ("ordersV0.json", "OrdersList", models.OrdersList), ("ordersV0.json", "OrderItemsList", models.OrderItemsList),
    ("reports_2021-06-30.json", "Report", models.Report),
    ("reports_2021-06-30.json", "ReportDocument", models.ReportDocument),
])
def test_models_require_what_the_swagger_requires_and_know_its_fields(definitions_file, definition, model):
    schema = _load("models", definitions_file)["definitions"][definition]
    required = {name for name, f in model.model_fields.items() if f.is_required()}
    assert required == set(schema.get("required", []))
    assert set(model.model_fields) <= set(schema["properties"])  # no invented field names


def test_money_is_exact_and_refuses_floats():
    assert models.Money.model_validate({"CurrencyCode": "USD", "Amount": "0.10"}).Amount == Decimal("0.10")
    with pytest.raises(ValueError):
        models.Money.model_validate({"CurrencyCode": "USD", "Amount": 0.1})
    with pytest.raises(ValueError):
        models.Order.model_validate({"AmazonOrderId": "1", "PurchaseDate": "2026-11-02T10:00:00",
                                     "LastUpdateDate": "2026-11-02T10:00:00Z", "OrderStatus": "Shipped"})


def test_documented_settlement_columns_are_the_parsers_and_the_sandboxs():
    documented = _load("settlement_report_v2_columns.json")["columns"]
    assert set(REQUIRED_COLUMNS) <= set(documented)
    parsed = set(REQUIRED_COLUMNS) | set(_TEXT_COLUMNS) | {"posted-date-time", "quantity-purchased"}
    assert parsed == set(documented)
    assert list(amazon_channel.COLUMNS) == documented
    text_columns = {c.replace("-", "_") for c in _TEXT_COLUMNS}
    assert text_columns <= set(raw_tables.RAW_TABLES[raw_tables.FILE_TABLE])
