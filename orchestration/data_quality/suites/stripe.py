"""raw_stripe: balance transactions, payouts, charges, refunds and disputes (amounts in minor units)."""
from connectors.stripe import raw_tables
from connectors.stripe.models import KNOWN_BALANCE_TRANSACTION_TYPES
from orchestration.data_quality.expectations import bounded, currency_codes, in_set, non_negative, not_null
from orchestration.data_quality.suites import SourceSuite

MINOR_LIMIT = 100_000_000_000  # minor units: 1 000 000 000.00 of a two-decimal currency
BALANCE_TRANSACTION_STATUSES = ("available", "pending")
PAYOUT_STATUSES = ("paid", "pending", "in_transit", "canceled", "failed")
PAYOUT_TYPES = ("bank_account", "card")
PAYOUT_METHODS = ("standard", "instant")
CHARGE_STATUSES = ("succeeded", "pending", "failed")
REFUND_STATUSES = ("pending", "requires_action", "succeeded", "failed", "canceled")
DISPUTE_STATUSES = ("warning_needs_response", "warning_under_review", "warning_closed", "needs_response",
                    "under_review", "won", "lost", "prevented", "charge_refunded")
DISPUTE_REASONS = ("bank_cannot_process", "check_returned", "credit_not_processed", "customer_initiated",
                   "debit_not_authorized", "duplicate", "fraudulent", "general", "incorrect_account_details",
                   "insufficient_funds", "noncompliant", "product_not_received", "product_unacceptable",
                   "subscription_canceled", "unrecognized")

SUITE = SourceSuite(raw=raw_tables, tables={
    "balance_transactions": [
        *not_null("id", "type", "status", "currency", "amount", "fee", "net", "created"),
        in_set("type", KNOWN_BALANCE_TRANSACTION_TYPES, "Stripe balance transaction type"),
        in_set("status", BALANCE_TRANSACTION_STATUSES, "Stripe balance transaction status"),
        *bounded("amount", "fee", "net", limit=MINOR_LIMIT),
        *currency_codes("currency"),
    ],
    "payouts": [
        *not_null("id", "status", "currency", "amount", "created"),
        in_set("status", PAYOUT_STATUSES, "Stripe payout status"),
        in_set("type", PAYOUT_TYPES, "Stripe payout type"),
        in_set("method", PAYOUT_METHODS, "Stripe payout method"),
        *bounded("amount", limit=MINOR_LIMIT),
        *currency_codes("currency"),
    ],
    "charges": [
        *not_null("id", "status", "currency", "amount", "created"),
        in_set("status", CHARGE_STATUSES, "Stripe charge status"),
        *non_negative("amount", "amount_captured", "amount_refunded"),
        *bounded("amount", limit=MINOR_LIMIT),
        *currency_codes("currency"),
    ],
    "refunds": [
        *not_null("id", "status", "currency", "amount", "created"),
        in_set("status", REFUND_STATUSES, "Stripe refund status"),
        *non_negative("amount"),
        *bounded("amount", limit=MINOR_LIMIT),
        *currency_codes("currency"),
    ],
    "disputes": [
        *not_null("id", "status", "currency", "amount", "created", "charge"),
        in_set("status", DISPUTE_STATUSES, "Stripe dispute status"),
        in_set("reason", DISPUTE_REASONS, "Stripe dispute reason"),
        *non_negative("amount"),
        *bounded("amount", limit=MINOR_LIMIT),
    ],
    "dispute_balance_transactions": [
        *not_null("dispute_id", "balance_transaction_id", "type", "currency", "amount", "fee", "net"),
        in_set("type", KNOWN_BALANCE_TRANSACTION_TYPES, "Stripe balance transaction type"),
        *bounded("amount", "fee", "net", limit=MINOR_LIMIT),
    ],
})
