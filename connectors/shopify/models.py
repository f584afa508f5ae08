"""Pydantic models of the Shopify Admin REST payloads omnirecon reads, and of the GraphQL bulk lines.

Shopify adds fields often, so every model ignores what it does not know (the full payload is
kept in the landing file, the replay source). Money stays Decimal: Shopify
sends it mostly as strings ("199.00") but some refund fields as JSON numbers.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator


class ShopifyModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _floats_as_exact_decimals(cls, value):
        # A JSON number such as 195.66 arrives as a float; str() keeps its shortest exact form.
        return str(value) if isinstance(value, float) else value


class DiscountAllocation(ShopifyModel):
    amount: Decimal


class TaxLine(ShopifyModel):
    price: Decimal
    rate: Decimal | None = None
    title: str | None = None


class LineItem(ShopifyModel):
    id: int
    sku: str | None = None
    title: str | None = None
    quantity: int
    price: Decimal
    total_discount: Decimal = Decimal("0")
    discount_allocations: list[DiscountAllocation] = []
    tax_lines: list[TaxLine] = []

    @property
    def discount_amount(self) -> Decimal:
        # total_discount is deprecated by Shopify in favour of discount_allocations.
        if self.discount_allocations:
            return sum((a.amount for a in self.discount_allocations), Decimal("0"))
        return self.total_discount

    @property
    def tax_amount(self) -> Decimal:
        return sum((t.price for t in self.tax_lines), Decimal("0"))


class ShippingLine(ShopifyModel):
    id: int | None = None
    title: str | None = None
    price: Decimal


class RefundLineItem(ShopifyModel):
    id: int
    line_item_id: int
    quantity: int
    subtotal: Decimal
    total_tax: Decimal = Decimal("0")


class OrderAdjustment(ShopifyModel):
    id: int
    kind: str | None = None
    amount: Decimal
    tax_amount: Decimal = Decimal("0")


class Refund(ShopifyModel):
    id: int
    order_id: int
    created_at: datetime
    processed_at: datetime | None = None
    note: str | None = None
    restock: bool | None = None
    refund_line_items: list[RefundLineItem] = []
    order_adjustments: list[OrderAdjustment] = []


class Order(ShopifyModel):
    id: int
    name: str
    email: str | None = None
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None = None
    cancelled_at: datetime | None = None
    currency: str
    taxes_included: bool = False
    financial_status: str | None = None
    source_name: str | None = None
    subtotal_price: Decimal
    total_discounts: Decimal = Decimal("0")
    total_tax: Decimal = Decimal("0")
    total_price: Decimal
    line_items: list[LineItem] = []
    shipping_lines: list[ShippingLine] = []
    refunds: list[Refund] = []

    @property
    def shipping_amount(self) -> Decimal:
        return sum((s.price for s in self.shipping_lines), Decimal("0"))


class Transaction(ShopifyModel):
    id: int
    order_id: int
    kind: str  # authorization, capture, sale, void, refund: kept open, Shopify may add kinds
    status: str
    gateway: str | None = None
    amount: Decimal
    currency: str
    created_at: datetime
    processed_at: datetime | None = None
    parent_id: int | None = None
    authorization: str | None = None


def _legacy_id(gid) -> int:
    """gid://shopify/OrderTransaction/123 -> 123: the GraphQL id's number is the REST id."""
    found = re.fullmatch(r"gid://shopify/[A-Za-z]+/(\d+)", gid) if isinstance(gid, str) else None
    if found is None:
        raise ValueError(f"not a Shopify global id: {str(gid)[:80]!r}")
    return int(found.group(1))


GlobalId = Annotated[int, BeforeValidator(_legacy_id)]


class ShopMoney(ShopifyModel):
    amount: Decimal
    currencyCode: str


class MoneyBag(ShopifyModel):
    shopMoney: ShopMoney


class NodeReference(ShopifyModel):
    id: GlobalId


class OrderTransaction(ShopifyModel):
    """A transaction as the Admin GraphQL API renders it: enums in upper case, money in a bag."""
    id: GlobalId
    kind: str
    status: str
    gateway: str | None = None
    amountSet: MoneyBag
    createdAt: datetime
    processedAt: datetime | None = None
    parentTransaction: NodeReference | None = None
    authorizationCode: str | None = None


class BulkOrderTransactions(ShopifyModel):
    """One line of the order-transactions bulk operation: an order's id and its transactions."""
    id: GlobalId
    transactions: list[OrderTransaction] = []


class Payout(ShopifyModel):
    id: int
    status: str
    date: date
    currency: str
    amount: Decimal


class BalanceTransaction(ShopifyModel):
    id: int
    type: str  # charge, refund, adjustment, payout, dispute, ... (open: new types appear)
    payout_id: int | None = None
    payout_status: str | None = None
    currency: str
    amount: Decimal
    fee: Decimal
    net: Decimal
    source_id: int | None = None
    source_type: str | None = None
    source_order_id: int | None = None
    source_order_transaction_id: int | None = None
    processed_at: datetime
    adjustment_reason: str | None = None
