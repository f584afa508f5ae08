"""Pydantic models of the Square Connect payloads omnirecon reads (Orders, Payments, Refunds, Locations).

Square conventions, as the models read them:
- money is a Money object `{"amount": <integer minor units>, "currency": "USD"}`; the integer is
  kept as sent (exact), `Money.major` gives the exact Decimal in major units. Refund processing
  fees arrive negative (a fee given back), so amounts are signed integers.
- quantities are decimal strings ("1", "2.5" for weighed goods): read as Decimal, never float.
- timestamps are RFC 3339 strings in UTC ("2021-10-13T19:34:33.524Z"), read as aware datetimes.
- a sale and its return are separate orders: the return order lists `returns`, each pointing at
  the sold order by `source_order_id` and at the sold line by `source_line_item_uid`. A return of
  something Square never sold (e.g. a web order returned in store) has no source order; the POS
  app then writes the original channel's order into the return order's `metadata`.
- a card processed by a third-party terminal (Adyen here) is an EXTERNAL payment whose
  `external_details.source_id` is the processor's reference; on the order it is a THIRD_PARTY_CARD tender.
- enums (tender type, payment source type, states) grow over Square-Version releases, so they are
  open strings.
Unknown fields are ignored: the full payload is kept in the landing file, the replay source.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

# Square's currencies without minor units (ISO 4217 exponent 0) among those a retailer meets.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF", "XPF"})


class SquareModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Money(SquareModel):
    amount: int
    currency: str

    @property
    def major(self) -> Decimal:
        """Exact amount in major units (1099 USD -> Decimal('10.99'))."""
        return Decimal(self.amount) if self.currency.upper() in ZERO_DECIMAL_CURRENCIES \
            else Decimal(self.amount).scaleb(-2)


def amount_of(money: Money | None) -> int | None:
    return None if money is None else money.amount


class ProcessingFee(SquareModel):
    effective_at: datetime | None = None
    type: str | None = None  # INITIAL or ADJUSTMENT
    amount_money: Money


class Address(SquareModel):
    address_line_1: str | None = None
    locality: str | None = None
    administrative_district_level_1: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Location(SquareModel):
    id: str
    name: str | None = None
    business_name: str | None = None
    description: str | None = None
    timezone: str | None = None  # IANA name: a store's business day is a day in this zone
    status: str | None = None  # ACTIVE or INACTIVE
    type: str | None = None  # PHYSICAL or MOBILE
    currency: str | None = None
    country: str | None = None
    merchant_id: str | None = None
    created_at: datetime | None = None
    address: Address | None = None


class OrderLineItemAppliedDiscount(SquareModel):
    uid: str | None = None
    discount_uid: str
    applied_money: Money | None = None


class OrderLineItem(SquareModel):
    uid: str | None = None
    name: str | None = None
    quantity: Decimal
    note: str | None = None
    catalog_object_id: str | None = None
    variation_name: str | None = None
    item_type: str | None = None
    metadata: dict[str, str] | None = None
    applied_discounts: list[OrderLineItemAppliedDiscount] = []
    base_price_money: Money | None = None
    variation_total_price_money: Money | None = None
    gross_sales_money: Money | None = None
    total_tax_money: Money | None = None
    total_discount_money: Money | None = None
    total_money: Money | None = None

    @property
    def sku(self) -> str | None:
        return (self.metadata or {}).get("sku")


class OrderLineItemDiscount(SquareModel):
    uid: str | None = None
    name: str | None = None
    type: str | None = None
    percentage: str | None = None
    scope: str | None = None
    applied_money: Money | None = None


class OrderLineItemTax(SquareModel):
    uid: str | None = None
    name: str | None = None
    percentage: str | None = None
    scope: str | None = None
    applied_money: Money | None = None


class TenderCard(SquareModel):
    card_brand: str | None = None
    last_4: str | None = None


class TenderCardDetails(SquareModel):
    status: str | None = None
    entry_method: str | None = None
    card: TenderCard | None = None


class TenderCashDetails(SquareModel):
    buyer_tendered_money: Money | None = None
    change_back_money: Money | None = None


class Tender(SquareModel):
    id: str | None = None
    location_id: str | None = None
    transaction_id: str | None = None
    created_at: datetime | None = None
    note: str | None = None
    amount_money: Money | None = None  # includes tip_money
    tip_money: Money | None = None
    processing_fee_money: Money | None = None
    customer_id: str | None = None
    type: str  # CARD, CASH, THIRD_PARTY_CARD, SQUARE_GIFT_CARD, NO_SALE, WALLET, OTHER, ...
    card_details: TenderCardDetails | None = None
    cash_details: TenderCashDetails | None = None
    payment_id: str | None = None


class OrderReturnLineItem(SquareModel):
    uid: str | None = None
    source_line_item_uid: str | None = None
    name: str | None = None
    quantity: Decimal
    note: str | None = None
    catalog_object_id: str | None = None
    variation_name: str | None = None
    base_price_money: Money | None = None
    variation_total_price_money: Money | None = None
    gross_return_money: Money | None = None
    total_tax_money: Money | None = None
    total_discount_money: Money | None = None
    total_money: Money | None = None


class OrderReturn(SquareModel):
    uid: str | None = None
    source_order_id: str | None = None  # None: what was returned was not sold through Square
    return_line_items: list[OrderReturnLineItem] = []


class OrderMoneyAmounts(SquareModel):
    total_money: Money | None = None
    tax_money: Money | None = None
    discount_money: Money | None = None
    tip_money: Money | None = None
    service_charge_money: Money | None = None


class OrderSource(SquareModel):
    name: str | None = None


class Order(SquareModel):
    id: str  # required here: an order without one is a calculation, not a stored order
    location_id: str
    reference_id: str | None = None
    source: OrderSource | None = None
    customer_id: str | None = None
    line_items: list[OrderLineItem] = []
    taxes: list[OrderLineItemTax] = []
    discounts: list[OrderLineItemDiscount] = []
    returns: list[OrderReturn] = []
    return_amounts: OrderMoneyAmounts | None = None
    net_amounts: OrderMoneyAmounts | None = None
    tenders: list[Tender] = []
    metadata: dict[str, str] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    state: str | None = None  # OPEN, COMPLETED, CANCELED, DRAFT
    version: int | None = None
    ticket_name: str | None = None
    total_money: Money | None = None
    total_tax_money: Money | None = None
    total_discount_money: Money | None = None
    total_tip_money: Money | None = None
    total_service_charge_money: Money | None = None

    @property
    def currency(self) -> str | None:
        for money in (self.total_money, self.net_amounts and self.net_amounts.total_money,
                      self.return_amounts and self.return_amounts.total_money):
            if money is not None:
                return money.currency
        return None


class Card(SquareModel):
    card_brand: str | None = None
    last_4: str | None = None
    card_type: str | None = None


class CardPaymentDetails(SquareModel):
    status: str | None = None
    entry_method: str | None = None
    card: Card | None = None


class CashPaymentDetails(SquareModel):
    buyer_supplied_money: Money
    change_back_money: Money | None = None


class ExternalPaymentDetails(SquareModel):
    type: str  # CARD, CHECK, BANK_TRANSFER, OTHER_GIFT_CARD, ...
    source: str  # who processed it, e.g. "Adyen"
    source_id: str | None = None  # the processor's reference (an Adyen PSP reference)
    source_fee_money: Money | None = None


class Payment(SquareModel):
    id: str
    created_at: datetime
    updated_at: datetime | None = None
    amount_money: Money  # excludes tip
    tip_money: Money | None = None
    total_money: Money | None = None  # amount + tip
    app_fee_money: Money | None = None
    approved_money: Money | None = None
    refunded_money: Money | None = None
    processing_fee: list[ProcessingFee] = []
    status: str | None = None  # APPROVED, PENDING, COMPLETED, CANCELED, FAILED
    source_type: str | None = None  # CARD, CASH, EXTERNAL, BANK_ACCOUNT, WALLET, ...
    card_details: CardPaymentDetails | None = None
    cash_details: CashPaymentDetails | None = None
    external_details: ExternalPaymentDetails | None = None
    location_id: str | None = None
    order_id: str | None = None
    reference_id: str | None = None
    customer_id: str | None = None
    refund_ids: list[str] = []
    note: str | None = None
    receipt_number: str | None = None
    version_token: str | None = None

    @property
    def processing_fee_amount(self) -> int | None:
        if not self.processing_fee:
            return None
        return sum(fee.amount_money.amount for fee in self.processing_fee)


class DestinationExternalDetails(SquareModel):
    type: str | None = None
    source: str | None = None
    source_id: str | None = None


class DestinationDetails(SquareModel):
    external_details: DestinationExternalDetails | None = None


class PaymentRefund(SquareModel):
    id: str
    status: str | None = None  # PENDING, COMPLETED, REJECTED, FAILED
    location_id: str | None = None
    unlinked: bool | None = None  # a refund with no Square payment behind it
    destination_type: str | None = None  # CARD, CASH, EXTERNAL, ...
    destination_details: DestinationDetails | None = None
    amount_money: Money
    app_fee_money: Money | None = None
    processing_fee: list[ProcessingFee] = []
    payment_id: str | None = None
    order_id: str | None = None  # the return order, not the sold one
    reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def processing_fee_amount(self) -> int | None:
        if not self.processing_fee:
            return None
        return sum(fee.amount_money.amount for fee in self.processing_fee)


Refund = PaymentRefund


class SquareError(SquareModel):
    category: str
    code: str
    detail: str | None = None
    field: str | None = None


class OrderEventSummary(SquareModel):
    """What order.created / order.updated webhooks carry: not the order, only which one changed."""
    order_id: str
    location_id: str | None = None
    state: str | None = None
    version: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class WebhookEventData(SquareModel):
    type: str  # "payment", "refund", "order_created", ...
    id: str
    object: dict = {}


class WebhookEvent(SquareModel):
    merchant_id: str
    type: str  # "payment.updated", "order.created", ...
    event_id: str
    created_at: datetime
    location_id: str | None = None
    data: WebhookEventData

    def payload(self) -> SquareModel | None:
        """The event's object as a model: a Payment, a PaymentRefund, an OrderEventSummary; None otherwise."""
        obj = self.data.object
        if "payment" in obj:
            return Payment.model_validate(obj["payment"])
        if "refund" in obj and self.type.startswith("refund."):
            return PaymentRefund.model_validate(obj["refund"])
        for key in ("order_created", "order_updated"):
            if key in obj:
                return OrderEventSummary.model_validate(obj[key])
        return None
