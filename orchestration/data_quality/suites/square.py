"""raw_square: the stores' POS (Square API, amounts in minor units) and the stores' Z report files."""
from connectors.square import raw_tables
from connectors.square.z_report import SECTIONS
from orchestration.data_quality.expectations import bounded, currency_codes, in_set, non_negative, not_null
from orchestration.data_quality.suites import SourceSuite

MINOR_LIMIT = 100_000_000_000  # minor units
LOCATION_STATUSES = ("ACTIVE", "INACTIVE")
ORDER_STATES = ("OPEN", "COMPLETED", "CANCELED", "DRAFT")
TENDER_TYPES = ("CARD", "CASH", "THIRD_PARTY_CARD", "SQUARE_GIFT_CARD", "NO_SALE", "BANK_ACCOUNT", "WALLET",
                "BUY_NOW_PAY_LATER", "SQUARE_ACCOUNT", "OTHER")
PAYMENT_STATUSES = ("APPROVED", "PENDING", "COMPLETED", "CANCELED", "FAILED")
PAYMENT_SOURCE_TYPES = ("CARD", "BANK_ACCOUNT", "WALLET", "BUY_NOW_PAY_LATER", "SQUARE_ACCOUNT", "CASH", "EXTERNAL")
REFUND_STATUSES = ("PENDING", "COMPLETED", "REJECTED", "FAILED")
ORDER_MONEY = ("total_money", "total_tax_money", "total_discount_money", "total_tip_money", "return_total_money",
               "return_tax_money", "return_discount_money", "net_total_money")
LINE_MONEY = ("base_price_money", "gross_sales_money", "total_discount_money", "total_tax_money", "total_money")

SUITE = SourceSuite(raw=raw_tables, tables={
    "locations": [
        *not_null("id", "name", "timezone", "status"),
        in_set("status", LOCATION_STATUSES, "Square location status"),
    ],
    "orders": [
        *not_null("id", "location_id", "state", "created_at", "updated_at", "currency", "total_money"),
        in_set("state", ORDER_STATES, "Square order state"),
        *non_negative("version", "total_money", "total_tax_money", "total_discount_money", "total_tip_money"),
        *bounded(*ORDER_MONEY, limit=MINOR_LIMIT),
        *currency_codes("currency"),
    ],
    "order_line_items": [
        *not_null("uid", "order_id", "order_updated_at", "quantity", "total_money"),
        *non_negative("quantity", "base_price_money", "gross_sales_money"),
        *bounded(*LINE_MONEY, limit=MINOR_LIMIT),
    ],
    "order_tenders": [
        *not_null("id", "order_id", "type", "amount_money"),
        in_set("type", TENDER_TYPES, "Square tender type"),
        *non_negative("amount_money", "tip_money"),
        *bounded("amount_money", limit=MINOR_LIMIT),
    ],
    "order_returns": [
        *not_null("uid", "return_uid", "order_id", "quantity", "total_money"),
        *non_negative("quantity", "base_price_money", "gross_return_money"),
        *bounded("total_money", limit=MINOR_LIMIT),
    ],
    "payments": [
        *not_null("id", "location_id", "status", "source_type", "currency", "amount_money", "created_at"),
        in_set("status", PAYMENT_STATUSES, "Square payment status"),
        in_set("source_type", PAYMENT_SOURCE_TYPES, "Square payment source type"),
        *non_negative("amount_money", "tip_money", "total_money", "refunded_money"),
        *bounded("amount_money", "total_money", limit=MINOR_LIMIT),
        *currency_codes("currency"),
    ],
    "refunds": [
        *not_null("id", "order_id", "status", "currency", "amount_money", "created_at"),
        in_set("status", REFUND_STATUSES, "Square refund status"),
        *non_negative("amount_money"),
        *bounded("amount_money", limit=MINOR_LIMIT),
    ],
    "z_reports": [
        *not_null("report_line_id", "store_code", "location_id", "business_date", "currency", "section",
                  "line_name"),
        in_set("section", SECTIONS, "Z report section"),
        *non_negative("count"),
        *bounded("amount", limit=1_000_000_000),
        *currency_codes("currency"),
    ],
})
