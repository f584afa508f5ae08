"""raw_shopify: Shopify Admin API (REST) orders, refunds, transactions, payouts and balance transactions.

Money is decimal text as Shopify sends it (staging casts it): every money cell must parse as a decimal
with at most 9 integer digits and 4 decimals (sane bounds, and it fits numeric(18,4)).
"""
from connectors.shopify import raw_tables
from orchestration.data_quality.expectations import currency_codes, decimal_text, in_set, non_negative, not_null
from orchestration.data_quality.suites import SourceSuite

FINANCIAL_STATUSES = ("pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided",
                      "expired")
TRANSACTION_KINDS = ("authorization", "capture", "sale", "void", "refund", "change", "emv_authorization",
                     "suggested_refund")
TRANSACTION_STATUSES = ("pending", "failure", "success", "error")
PAYOUT_STATUSES = ("scheduled", "in_transit", "paid", "failed", "canceled", "cancelled", "action_required")
# Shopify Payments balance transaction types (REST names, and the GraphQL enum's in lower case)
BALANCE_TRANSACTION_TYPES = (
    "charge", "refund", "dispute", "reserve", "adjustment", "credit", "debit", "payout", "payout_failure",
    "payout_cancellation", "application_fee_refund", "advance", "advance_funding", "anticipation_repayment",
    "charge_adjustment", "chargeback_fee", "chargeback_fee_refund", "chargeback_hold", "chargeback_hold_release",
    "dispute_reversal", "dispute_withdrawal", "refund_adjustment", "refund_failure", "reserved_funds",
    "reserved_funds_reversal", "reserved_funds_withdrawal", "risk_reversal", "risk_withdrawal", "transfer",
    "transfer_cancel", "transfer_failure", "transfer_refund", "tax_adjustment_credit", "tax_adjustment_debit",
    "seller_protection_credit", "seller_protection_credit_reversal", "shipping_label", "shipping_label_adjustment",
    "shop_cash_credit", "vat_refund_credit", "balance_transfer_inbound", "billing_debit", "billing_debit_reversal",
    "collections_credit", "collections_credit_reversal", "lending_debit", "lending_credit", "import_tax",
    "import_tax_refund", "markets_pro_credit", "merchant_to_merchant_credit", "merchant_to_merchant_debit",
    "promotion_credit", "promotion_credit_reversal", "customs_duty", "customs_duty_adjustment")
ADJUSTMENT_KINDS = ("shipping_refund", "refund_discrepancy")

SUITE = SourceSuite(raw=raw_tables, tables={
    "orders": [
        *not_null("id", "name", "created_at", "updated_at", "currency", "financial_status", "total_price"),
        in_set("financial_status", FINANCIAL_STATUSES, "Shopify order financial_status"),
        *decimal_text("subtotal_price", "total_discounts", "total_tax", "total_price", "total_shipping"),
        *currency_codes("currency"),
    ],
    "order_line_items": [
        *not_null("id", "order_id", "order_updated_at", "quantity", "price"),
        *non_negative("quantity"),
        *decimal_text("price", "discount_amount", "tax_amount"),
    ],
    "refunds": [*not_null("id", "order_id", "order_updated_at", "created_at")],
    "refund_line_items": [
        *not_null("id", "refund_id", "order_id", "line_item_id", "quantity"),
        *non_negative("quantity"),
        *decimal_text("subtotal", "total_tax"),
    ],
    "refund_order_adjustments": [
        *not_null("id", "refund_id", "order_id", "kind", "amount"),
        in_set("kind", ADJUSTMENT_KINDS, "Shopify order adjustment kind"),
        *decimal_text("amount", "tax_amount"),
    ],
    "transactions": [
        *not_null("id", "order_id", "kind", "status", "amount", "currency", "created_at"),
        in_set("kind", TRANSACTION_KINDS, "Shopify transaction kind"),
        in_set("status", TRANSACTION_STATUSES, "Shopify transaction status"),
        *decimal_text("amount"),
        *currency_codes("currency"),
    ],
    "payouts": [
        *not_null("id", "status", "date", "currency", "amount"),
        in_set("status", PAYOUT_STATUSES, "Shopify Payments payout status"),
        *decimal_text("amount"),
        *currency_codes("currency"),
    ],
    "balance_transactions": [
        *not_null("id", "type", "currency", "amount", "fee", "net", "processed_at"),
        in_set("type", BALANCE_TRANSACTION_TYPES, "Shopify Payments balance transaction type"),
        in_set("payout_status", PAYOUT_STATUSES, "Shopify Payments payout status"),
        *decimal_text("amount", "fee", "net"),
        *currency_codes("currency"),
    ],
})
