"""raw_amazon: SP-API orders and order items, and settlement report rows (API and Seller Central files)."""
from connectors.amazon import raw_tables
from orchestration.data_quality.expectations import bounded, currency_codes, in_set, non_negative, not_null
from orchestration.data_quality.suites import SourceSuite

LIMIT = 1_000_000_000  # major units
# Orders v0 spellings, then Orders API 2026-01-01's (the pull's since 2026-11; older landed pages keep v0's).
ORDER_STATUSES = ("Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled", "Unfulfillable",
                  "InvoiceUnconfirmed", "PendingAvailability",
                  "PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED",
                  "UNFULFILLABLE")
FULFILLMENT_CHANNELS = ("MFN", "AFN", "MERCHANT", "AMAZON")
ORDER_TYPES = ("StandardOrder", "LongLeadTimeOrder", "Preorder", "BackOrder", "SourcingOnDemandOrder")
ITEM_MONEY = ("item_price", "item_tax", "shipping_price", "shipping_tax", "shipping_discount",
              "shipping_discount_tax", "promotion_discount", "promotion_discount_tax")

SUITE = SourceSuite(raw=raw_tables, tables={
    "orders": [
        *not_null("amazon_order_id", "purchase_date", "last_update_date", "order_status"),
        in_set("order_status", ORDER_STATUSES, "SP-API OrderStatus / fulfillmentStatus"),
        in_set("fulfillment_channel", FULFILLMENT_CHANNELS, "SP-API FulfillmentChannel / fulfilledBy"),
        in_set("order_type", ORDER_TYPES, "SP-API OrderType"),
        *non_negative("number_of_items_shipped", "number_of_items_unshipped", "order_total_amount"),
        *bounded("order_total_amount", limit=LIMIT),
        *currency_codes("order_total_currency"),
    ],
    "order_items": [
        *not_null("amazon_order_id", "order_item_id", "seller_sku", "quantity_ordered"),
        *non_negative("quantity_ordered", "quantity_shipped"),
        *bounded(*ITEM_MONEY, limit=LIMIT),
        *currency_codes(*(f"{money}_currency" for money in ITEM_MONEY)),
    ],
    "settlement_report_rows": [
        *not_null("settlement_id", "line_number", "settlement_start_at", "settlement_end_at",
                  "settlement_total_amount", "amount", "currency", "posted_date"),
        *non_negative("line_number", "quantity_purchased"),
        *bounded("amount", "settlement_total_amount", limit=LIMIT),
        *currency_codes("currency"),
    ],
})
