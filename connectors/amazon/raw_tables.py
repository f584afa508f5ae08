"""How Amazon SP-API payloads and settlement reports become rows of the raw_amazon tables.

Two kinds of input load here (connectors.raw_load picks by file type):
- JSON pages landed by the daily pull: stream "search_orders" (Orders API 2026-01-01: one Order with
  its orderItems per record, split into an orders row and its order_items rows). Pages landed
  before that API still load: stream "orders" (one Orders v0 Order per record) and stream
  "order_items" (one v0 getOrderItems payload per record: an item does not name its order there,
  so the payload's AmazonOrderId goes onto every item row). Both APIs fill the same columns, in
  each vendor's own spelling of statuses (staging reads both);
- settlement report files (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2): downloaded through the
  Reports API and landed as files, or downloaded from Seller Central and dropped into the inbox
  folder `amazon_settlements/`. Both go through `parse_file` into `settlement_report_rows`; a row
  depends only on the file's content (never its name), so the same report arriving both ways
  gives identical rows, and the loader's row hashes keep one copy.

Money is an exact numeric with its currency next to it (every Money of an item carries its own
CurrencyCode). The settlement summary (period, deposit date, stated total) is repeated on every
transaction row so staging can tie a report out without the summary line.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from connectors.amazon import models
from connectors.amazon.settlement_report import _TEXT_COLUMNS, parse_settlement_report
from connectors.report_files import ParsedReport

SCHEMA = "raw_amazon"
FILE_TABLE = "settlement_report_rows"
INBOX_FOLDER = "amazon_settlements"

AMOUNT = "numeric(18,4)"
_ITEM_MONEY = ("item_price", "item_tax", "shipping_price", "shipping_tax", "shipping_discount",
               "shipping_discount_tax", "promotion_discount", "promotion_discount_tax")

RAW_TABLES: dict[str, dict[str, str]] = {
    "orders": {
        "amazon_order_id": "varchar", "seller_order_id": "varchar", "purchase_date": "timestamptz",
        "last_update_date": "timestamptz", "order_status": "varchar", "fulfillment_channel": "varchar",
        "sales_channel": "varchar", "marketplace_id": "varchar", "order_type": "varchar",
        "order_total_amount": AMOUNT, "order_total_currency": "varchar", "number_of_items_shipped": "integer",
        "number_of_items_unshipped": "integer", "payment_method": "varchar", "ship_service_level": "varchar",
        "is_prime": "boolean", "is_business_order": "boolean", "buyer_email": "varchar",
        "ship_city": "varchar", "ship_state_or_region": "varchar", "ship_postal_code": "varchar",
        "ship_country_code": "varchar", "earliest_ship_date": "timestamptz", "latest_ship_date": "timestamptz",
    },
    "order_items": {
        "amazon_order_id": "varchar", "order_item_id": "varchar", "asin": "varchar", "seller_sku": "varchar",
        "title": "varchar", "quantity_ordered": "integer", "quantity_shipped": "integer",
        **{column: kind for money in _ITEM_MONEY
           for column, kind in ((money, AMOUNT), (f"{money}_currency", "varchar"))},
        "promotion_ids": "varchar",
    },
    FILE_TABLE: {
        "settlement_id": "varchar", "line_number": "integer",
        "settlement_start_at": "timestamptz", "settlement_end_at": "timestamptz", "deposit_at": "timestamptz",
        "settlement_total_amount": AMOUNT,
        **{column.replace("-", "_"): "varchar" for column in _TEXT_COLUMNS},
        "amount": AMOUNT, "currency": "varchar", "posted_date": "date", "posted_at": "timestamptz",
        "quantity_purchased": "integer",
    },
}

# SQL expression naming one business record per table (an order fetched twice in two versions is
# two raw rows and one record). A settlement row is its report's line: reports are immutable.
RECORD_KEYS: dict[str, str] = {
    "orders": "amazon_order_id",
    "order_items": "order_item_id",
    FILE_TABLE: "settlement_id || '/' || cast(line_number as varchar)",
}

Rows = dict[str, list[dict]]


def _order(order: models.Order) -> Rows:
    total, address, buyer = order.OrderTotal, order.ShippingAddress, order.BuyerInfo
    return {"orders": [{
        "amazon_order_id": order.AmazonOrderId, "seller_order_id": order.SellerOrderId,
        "purchase_date": order.PurchaseDate, "last_update_date": order.LastUpdateDate,
        "order_status": order.OrderStatus, "fulfillment_channel": order.FulfillmentChannel,
        "sales_channel": order.SalesChannel, "marketplace_id": order.MarketplaceId, "order_type": order.OrderType,
        "order_total_amount": total.Amount if total else None,
        "order_total_currency": total.CurrencyCode if total else None,
        "number_of_items_shipped": order.NumberOfItemsShipped,
        "number_of_items_unshipped": order.NumberOfItemsUnshipped, "payment_method": order.PaymentMethod,
        "ship_service_level": order.ShipServiceLevel, "is_prime": order.IsPrime,
        "is_business_order": order.IsBusinessOrder, "buyer_email": buyer.BuyerEmail if buyer else None,
        "ship_city": address.City if address else None,
        "ship_state_or_region": address.StateOrRegion if address else None,
        "ship_postal_code": address.PostalCode if address else None,
        "ship_country_code": address.CountryCode if address else None,
        "earliest_ship_date": order.EarliestShipDate, "latest_ship_date": order.LatestShipDate,
    }]}


def _item_money(item: models.OrderItem) -> dict:
    row = {}
    for column in _ITEM_MONEY:
        money = getattr(item, "".join(part.title() for part in column.split("_")))
        row[column] = money.Amount if money else None
        row[f"{column}_currency"] = money.CurrencyCode if money else None
    return row


def _order_items(page: models.OrderItemsList) -> Rows:
    return {"order_items": [{
        "amazon_order_id": page.AmazonOrderId, "order_item_id": item.OrderItemId, "asin": item.ASIN,
        "seller_sku": item.SellerSKU, "title": item.Title, "quantity_ordered": item.QuantityOrdered,
        "quantity_shipped": item.QuantityShipped, **_item_money(item),
        "promotion_ids": ",".join(item.PromotionIds) or None,
    } for item in page.OrderItems]}


def _breakdowns(proceeds: models.ItemProceeds | None) -> dict[tuple[str, str | None], tuple[Decimal, str]]:
    """An item's proceeds as (amount, currency) by (type, subtype): ("ITEM", None) for a subtotal,
    ("TAX", "SHIPPING") for a detail. A TAX or DISCOUNT without details applies to the item itself."""
    amounts: dict[tuple[str, str | None], tuple[Decimal, str]] = {}

    def add(key, money: models.Money2026) -> None:
        amount, _ = amounts.get(key, (Decimal(0), None))
        amounts[key] = (amount + money.amount, money.currencyCode)

    for breakdown in proceeds.breakdowns if proceeds else []:
        add((breakdown.type, None), breakdown.subtotal)
        details = [d for d in breakdown.detailedBreakdowns if d.value is not None]
        for detail in details or [models.ProceedsDetail(subtype="ITEM", value=breakdown.subtotal)]:
            add((breakdown.type, detail.subtype), detail.value)
    return amounts


def _proceeds_money(item: models.OrderItem2026) -> dict:
    """The 2026 proceeds breakdowns in the v0 columns. A discount is stored as its size, as v0 states it:
    Amazon does not document the sign of a DISCOUNT breakdown, and a discount never adds to proceeds."""
    amounts = _breakdowns(item.proceeds)
    sources = {"item_price": ("ITEM", None), "item_tax": ("TAX", "ITEM"), "shipping_price": ("SHIPPING", None),
               "shipping_tax": ("TAX", "SHIPPING"), "shipping_discount": ("DISCOUNT", "SHIPPING"),
               "shipping_discount_tax": None, "promotion_discount": ("DISCOUNT", "ITEM"),
               "promotion_discount_tax": ("TAX", "DISCOUNT")}
    row = {}
    for column, source in sources.items():
        amount, currency = amounts.get(source, (None, None)) if source else (None, None)
        row[column] = abs(amount) if amount is not None and "discount" in column else amount
        row[f"{column}_currency"] = currency
    return row


def _searched_order(order: models.Order2026) -> Rows:
    fulfillment, total = order.fulfillment, order.proceeds.grandTotal if order.proceeds else None
    address = order.recipient.deliveryAddress if order.recipient else None
    ship_by = fulfillment.shipByWindow if fulfillment else None
    seller_ids = [alias.aliasId for alias in order.orderAliases if alias.aliasType == "SELLER_ORDER_ID"]
    items = order.orderItems
    fulfilled = [item.fulfillment for item in items if item.fulfillment is not None]
    return {"orders": [{
        "amazon_order_id": order.orderId, "seller_order_id": seller_ids[0] if seller_ids else None,
        "purchase_date": order.createdTime, "last_update_date": order.lastUpdatedTime,
        "order_status": fulfillment.fulfillmentStatus if fulfillment else None,
        "fulfillment_channel": fulfillment.fulfilledBy if fulfillment else None,
        "sales_channel": order.salesChannel.marketplaceName, "marketplace_id": order.salesChannel.marketplaceId,
        "order_type": None, "order_total_amount": total.amount if total else None,
        "order_total_currency": total.currencyCode if total else None,
        "number_of_items_shipped": sum(f.quantityFulfilled or 0 for f in fulfilled) if fulfilled else None,
        "number_of_items_unshipped": sum(f.quantityUnfulfilled or 0 for f in fulfilled) if fulfilled else None,
        "payment_method": None, "ship_service_level": fulfillment.fulfillmentServiceLevel if fulfillment else None,
        "is_prime": "PRIME" in order.programs, "is_business_order": "AMAZON_BUSINESS" in order.programs,
        "buyer_email": order.buyer.buyerEmail if order.buyer else None,
        "ship_city": address.city if address else None,
        "ship_state_or_region": address.stateOrRegion if address else None,
        "ship_postal_code": address.postalCode if address else None,
        "ship_country_code": address.countryCode if address else None,
        "earliest_ship_date": ship_by.earliestDateTime if ship_by else None,
        "latest_ship_date": ship_by.latestDateTime if ship_by else None,
    }], "order_items": [{
        "amazon_order_id": order.orderId, "order_item_id": item.orderItemId, "asin": item.product.asin,
        "seller_sku": item.product.sellerSku, "title": item.product.title, "quantity_ordered": item.quantityOrdered,
        "quantity_shipped": item.fulfillment.quantityFulfilled if item.fulfillment else None,
        **_proceeds_money(item),
        "promotion_ids": ",".join(p.promotionId for p in (item.promotion.breakdowns if item.promotion else [])
                                  if p.promotionId) or None,
    } for item in items]}


# What names a landed record when it must be quarantined (SP-API payloads have no "id").
PAYLOAD_ID_FIELDS = {"search_orders": "orderId", "orders": "AmazonOrderId", "order_items": "AmazonOrderId"}
STREAMS = {"search_orders": (models.Order2026, _searched_order),
           "orders": (models.Order, _order), "order_items": (models.OrderItemsList, _order_items)}


def flatten(stream: str, payload: dict) -> Rows:
    """Validate one landed record and split it into raw rows (raises pydantic.ValidationError)."""
    model, flattener = STREAMS[stream]
    return flattener(model.model_validate(payload))


def parse_file(path: Path | str) -> ParsedReport:
    """A settlement report file as raw rows (bad rows quarantined; an unreadable file raises ReportFormatError)."""
    report = parse_settlement_report(Path(path))
    header = report.header
    summary = {"settlement_start_at": header.start_at, "settlement_end_at": header.end_at,
               "deposit_at": header.deposit_at, "settlement_total_amount": header.total_amount}
    return ParsedReport(rows=[{**row, **summary} for row in report.rows], quarantined=report.quarantined)
