"""Pydantic models of the Stripe API objects omnirecon reads (API version pinned by the client).

Stripe conventions, as the models read them:
- money is an integer in the currency's minor unit (cents; yen for JPY, a zero-decimal currency).
  The integer is kept as sent; `*_major` properties give the exact Decimal in major units.
- currencies are three-letter ISO codes in lower case ("usd"); the models lower-case them.
- timestamps are Unix seconds; the models turn them into aware UTC datetimes.
- expandable fields (`charge`, `balance_transaction`, `source`, ...) are an id string or, when the
  request expanded them, the whole object: the models keep the id either way.
- enums such as balance_transaction.type and reporting_category grow between API versions, so they
  are open strings (KNOWN_* hold the values known today, for checks, not for validation).
Unknown fields are ignored: the full payload is kept in the landing file, the replay source.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# Stripe's zero-decimal and three-decimal currencies (https://docs.stripe.com/currencies).
# ISK, HUF, TWD and UGX are sent with two decimals for backwards compatibility except UGX, which
# Stripe lists as zero-decimal; everything else has two.
ZERO_DECIMAL_CURRENCIES = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx",
                                     "vnd", "vuv", "xaf", "xof", "xpf"})
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

KNOWN_BALANCE_TRANSACTION_TYPES = frozenset({
    "adjustment", "advance", "advance_funding", "anticipation_repayment", "application_fee",
    "application_fee_refund", "charge", "climate_order_purchase", "climate_order_refund",
    "connect_collection_transfer", "contribution", "issuing_authorization_hold", "issuing_authorization_release",
    "issuing_dispute", "issuing_transaction", "obligation_inbound", "obligation_outbound", "obligation_payout",
    "obligation_payout_failure", "obligation_reversal_inbound", "obligation_reversal_outbound", "payment",
    "payment_failure_refund", "payment_network_reserve_hold", "payment_network_reserve_release", "payment_refund",
    "payment_reversal", "payment_unreconciled", "payout", "payout_cancel", "payout_failure", "payout_minimum_balance_hold",
    "payout_minimum_balance_release", "refund", "refund_failure", "reserve_transaction", "reserved_funds",
    "stripe_balance_payment_debit", "stripe_balance_payment_debit_reversal", "stripe_fee", "stripe_fx_fee",
    "tax_fee", "topup", "topup_reversal", "transfer", "transfer_cancel", "transfer_failure", "transfer_refund",
})


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point of a currency's major unit, as Stripe counts minor units."""
    code = currency.lower()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def to_major(amount: int, currency: str) -> Decimal:
    """An integer amount in minor units as an exact Decimal in major units (1099 usd -> 10.99)."""
    exponent = currency_exponent(currency)
    return Decimal(amount).scaleb(-exponent) if exponent else Decimal(amount)


def to_minor(amount: Decimal, currency: str) -> int:
    """An exact major-unit Decimal as integer minor units; refuses sub-minor-unit precision."""
    scaled = amount.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency.upper()} allows")
    return int(scaled)


def _unix_seconds(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a Unix timestamp must be an integer, not a boolean")
    if isinstance(value, int):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a timestamp must carry its time zone")
        return value.astimezone(timezone.utc)
    raise ValueError(f"expected Unix seconds (an integer), got {type(value).__name__}")


def _expandable_id(value: Any) -> Any:
    if isinstance(value, dict):
        found = value.get("id")
        if not isinstance(found, str):
            raise ValueError("an expanded object must carry a string id")
        return found
    return value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _exact(value: Any) -> Any:
    # JSON numbers such as exchange_rate arrive as floats; str() keeps their shortest exact form.
    return str(value) if isinstance(value, float) else value


Timestamp = Annotated[datetime, BeforeValidator(_unix_seconds)]
ExpandableId = Annotated[str | None, BeforeValidator(_expandable_id)]
MinorAmount = Annotated[int, Field(strict=True)]  # no floats, strings or booleans
Currency = Annotated[str, BeforeValidator(_lower), Field(pattern=r"^[a-z]{3}$")]
ExactDecimal = Annotated[Decimal | None, BeforeValidator(_exact)]


class StripeModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _HasAmount(StripeModel):
    amount: MinorAmount
    currency: Currency

    @property
    def amount_major(self) -> Decimal:
        return to_major(self.amount, self.currency)


class FeeDetail(_HasAmount):
    type: str  # application_fee, payment_method_passthrough_fee, stripe_fee, tax (open)
    description: str | None = None
    application: str | None = None


class BalanceTransaction(_HasAmount):
    id: str
    type: str  # open: see KNOWN_BALANCE_TRANSACTION_TYPES
    reporting_category: str | None = None  # open: Stripe marks it x-stripeBypassValidation
    status: str  # available, pending
    fee: MinorAmount
    net: MinorAmount
    fee_details: list[FeeDetail] = []
    created: Timestamp
    available_on: Timestamp
    description: str | None = None
    exchange_rate: ExactDecimal = None
    source: ExpandableId = None
    balance_type: str | None = None

    @property
    def fee_major(self) -> Decimal:
        return to_major(self.fee, self.currency)

    @property
    def net_major(self) -> Decimal:
        return to_major(self.net, self.currency)


class Payout(_HasAmount):
    id: str
    status: str  # paid, pending, in_transit, canceled, failed
    type: str | None = None  # bank_account, card
    method: str | None = None  # standard, instant
    automatic: bool | None = None
    created: Timestamp
    arrival_date: Timestamp
    balance_transaction: ExpandableId = None
    failure_balance_transaction: ExpandableId = None
    failure_code: str | None = None
    failure_message: str | None = None
    destination: ExpandableId = None
    original_payout: ExpandableId = None
    reversed_by: ExpandableId = None
    reconciliation_status: str | None = None  # not_applicable, in_progress, completed
    source_type: str | None = None
    description: str | None = None
    statement_descriptor: str | None = None


class Charge(_HasAmount):
    id: str
    status: str  # succeeded, pending, failed
    amount_captured: MinorAmount = 0
    amount_refunded: MinorAmount = 0
    captured: bool = False
    paid: bool = False
    refunded: bool = False
    disputed: bool = False
    created: Timestamp
    balance_transaction: ExpandableId = None
    failure_balance_transaction: ExpandableId = None
    failure_code: str | None = None
    customer: ExpandableId = None
    payment_intent: ExpandableId = None
    payment_method: str | None = None
    description: str | None = None
    metadata: dict[str, str] = {}

    @property
    def amount_captured_major(self) -> Decimal:
        return to_major(self.amount_captured, self.currency)

    @property
    def amount_refunded_major(self) -> Decimal:
        return to_major(self.amount_refunded, self.currency)


class Refund(_HasAmount):
    id: str
    status: str | None = None  # pending, requires_action, succeeded, failed, canceled
    reason: str | None = None
    created: Timestamp
    charge: ExpandableId = None
    payment_intent: ExpandableId = None
    balance_transaction: ExpandableId = None
    failure_balance_transaction: ExpandableId = None
    failure_reason: str | None = None
    metadata: dict[str, str] = {}


class EvidenceDetails(StripeModel):
    due_by: Annotated[datetime | None, BeforeValidator(lambda v: v if v is None else _unix_seconds(v))] = None
    has_evidence: bool | None = None
    past_due: bool | None = None
    submission_count: int | None = None


class Dispute(_HasAmount):
    id: str
    status: str  # warning_needs_response, needs_response, under_review, won, lost, ... (open)
    reason: str | None = None
    created: Timestamp
    charge: ExpandableId = None
    payment_intent: ExpandableId = None
    is_charge_refundable: bool | None = None
    evidence_details: EvidenceDetails | None = None
    balance_transactions: list[BalanceTransaction] = []  # always embedded whole by Stripe
