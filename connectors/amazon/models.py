"""Pydantic models of the Selling Partner API payloads omnirecon reads (Orders 2026-01-01 and v0,
Reports 2021-06-30).

SP-API conventions, as the models read them:
- money is a `Money` object: `CurrencyCode` (ISO 4217) and `Amount` as a decimal *string*
  ("25.99"); the models read it into an exact Decimal and refuse floats, which would already
  have lost digits.
- timestamps are ISO 8601 in UTC with a `Z` ("2017-01-20T19:49:35Z"; Reports adds milliseconds);
  the models keep them as aware UTC datetimes and refuse a timestamp without a zone.
- Orders v0 names fields in PascalCase, Orders 2026-01-01 and Reports 2021-06-30 in camelCase (and
  Money's fields `amount`, `currencyCode`): the models keep the vendor's names so a payload reads
  one-to-one. The pull uses Orders 2026-01-01; the v0 models still read pages landed before it.
- enums (OrderStatus, FulfillmentChannel, processingStatus) grow over time: open strings here.
- the buyer's e-mail is a masked marketplace relay address (`...@marketplace.amazon.com`), never
  the customer's own: matching an Amazon buyer to a CRM customer needs other keys.
Unknown fields are ignored (schema drift): the full payload stays in the landing zone.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
PROCESSING_STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")


def _exact_amount(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("an amount must be a decimal string, not a float or boolean")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal amount") from None
        if not amount.is_finite():
            raise ValueError(f"{value!r} is not a finite amount")
        return amount
    return value


def _utc(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 timestamp") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a timestamp must carry its time zone")
        return value.astimezone(timezone.utc)
    return value


ExactAmount = Annotated[Decimal, BeforeValidator(_exact_amount)]
UtcTimestamp = Annotated[datetime, BeforeValidator(_utc)]


class AmazonModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Money(AmazonModel):
    CurrencyCode: str = Field(pattern=r"^[A-Z]{3}$")
    Amount: ExactAmount


class Address(AmazonModel):
    Name: str | None = None
    City: str | None = None
    StateOrRegion: str | None = None
    PostalCode: str | None = None
    CountryCode: str | None = None


class OrderBuyerInfo(AmazonModel):
    BuyerEmail: str | None = None  # the marketplace relay address, not the buyer's own
    BuyerName: str | None = None
    PurchaseOrderNumber: str | None = None


class Order(AmazonModel):
    AmazonOrderId: str
    SellerOrderId: str | None = None
    PurchaseDate: UtcTimestamp
    LastUpdateDate: UtcTimestamp
    OrderStatus: str  # Pending, Unshipped, PartiallyShipped, Shipped, Canceled, Unfulfillable, ...
    FulfillmentChannel: str | None = None  # MFN (seller ships) or AFN (Fulfilled by Amazon)
    SalesChannel: str | None = None  # e.g. Amazon.com
    MarketplaceId: str | None = None
    OrderType: str | None = None
    OrderTotal: Money | None = None  # absent on Pending orders
    NumberOfItemsShipped: int | None = None
    NumberOfItemsUnshipped: int | None = None
    PaymentMethod: str | None = None
    ShipServiceLevel: str | None = None
    EarliestShipDate: UtcTimestamp | None = None
    LatestShipDate: UtcTimestamp | None = None
    IsPrime: bool | None = None
    IsBusinessOrder: bool | None = None
    ShippingAddress: Address | None = None
    BuyerInfo: OrderBuyerInfo | None = None


class OrderItem(AmazonModel):
    ASIN: str
    OrderItemId: str
    SellerSKU: str | None = None
    Title: str | None = None
    QuantityOrdered: int
    QuantityShipped: int | None = None
    ItemPrice: Money | None = None  # the line's price (unit price x quantity), tax exclusive in the US
    ItemTax: Money | None = None
    ShippingPrice: Money | None = None
    ShippingTax: Money | None = None
    ShippingDiscount: Money | None = None
    ShippingDiscountTax: Money | None = None
    PromotionDiscount: Money | None = None
    PromotionDiscountTax: Money | None = None
    PromotionIds: list[str] = []


class OrdersList(AmazonModel):
    """getOrders' `payload`."""
    Orders: list[Order]
    NextToken: str | None = None
    # Echoes of the request's bounds, kept as sent: Amazon's own sandbox answers CreatedBefore
    # as epoch seconds in scientific notation ("1.569521782042E9"), not ISO 8601.
    LastUpdatedBefore: str | None = None
    CreatedBefore: str | None = None


class OrderItemsList(AmazonModel):
    """getOrderItems' `payload`: one order's items (one page of them)."""
    AmazonOrderId: str
    OrderItems: list[OrderItem]
    NextToken: str | None = None


# ---- Orders 2026-01-01 (searchOrders) --------------------------------------------------------
class Money2026(AmazonModel):
    currencyCode: str = Field(pattern=r"^[A-Z]{3}$")
    amount: ExactAmount


class ProceedsDetail(AmazonModel):
    subtype: str | None = None  # ITEM, SHIPPING, GIFT_WRAP, COD_FEE, OTHER, DISCOUNT
    value: Money2026 | None = None


class ProceedsBreakdown(AmazonModel):
    type: str  # ITEM, SHIPPING, GIFT_WRAP, COD_FEE, OTHER, TAX, DISCOUNT (DELIVERY_TIP at order level)
    subtotal: Money2026
    detailedBreakdowns: list[ProceedsDetail] = []  # only for TAX and DISCOUNT: what the amount applies to


class ItemProceeds(AmazonModel):
    proceedsTotal: Money2026 | None = None
    breakdowns: list[ProceedsBreakdown] = []


class ItemProduct(AmazonModel):
    asin: str | None = None
    title: str | None = None
    sellerSku: str | None = None


class PromotionRef(AmazonModel):
    promotionId: str | None = None


class ItemPromotion(AmazonModel):
    breakdowns: list[PromotionRef] = []


class ItemFulfillment(AmazonModel):
    quantityFulfilled: int | None = None
    quantityUnfulfilled: int | None = None


class OrderItem2026(AmazonModel):
    orderItemId: str
    quantityOrdered: int
    product: ItemProduct
    proceeds: ItemProceeds | None = None  # includedData=PROCEEDS
    promotion: ItemPromotion | None = None  # includedData=PROMOTION
    fulfillment: ItemFulfillment | None = None  # includedData=FULFILLMENT


class Alias(AmazonModel):
    aliasId: str
    aliasType: str  # SELLER_ORDER_ID


class SalesChannel(AmazonModel):
    channelName: str  # AMAZON, NON_AMAZON
    marketplaceId: str | None = None
    marketplaceName: str | None = None


class Buyer(AmazonModel):
    buyerEmail: str | None = None  # the marketplace relay address, not the buyer's own (FBM only)


class DeliveryAddress(AmazonModel):
    city: str | None = None
    stateOrRegion: str | None = None
    postalCode: str | None = None
    countryCode: str | None = None


class Recipient(AmazonModel):
    deliveryAddress: DeliveryAddress | None = None


class DateTimeRange(AmazonModel):
    earliestDateTime: UtcTimestamp | None = None
    latestDateTime: UtcTimestamp | None = None


class OrderFulfillment(AmazonModel):
    # PENDING_AVAILABILITY, PENDING, UNSHIPPED, PARTIALLY_SHIPPED, SHIPPED, CANCELLED, UNFULFILLABLE
    fulfillmentStatus: str
    fulfilledBy: str | None = None  # MERCHANT or AMAZON
    fulfillmentServiceLevel: str | None = None  # STANDARD, EXPEDITED, ...
    shipByWindow: DateTimeRange | None = None


class OrderProceeds(AmazonModel):
    grandTotal: Money2026 | None = None


class Order2026(AmazonModel):
    """One order of searchOrders' `orders`, its items always included."""
    orderId: str
    orderAliases: list[Alias] = []
    createdTime: UtcTimestamp
    lastUpdatedTime: UtcTimestamp
    programs: list[str] = []  # PRIME, AMAZON_BUSINESS, ...
    salesChannel: SalesChannel
    buyer: Buyer | None = None  # includedData=BUYER
    recipient: Recipient | None = None  # includedData=RECIPIENT
    proceeds: OrderProceeds | None = None  # includedData=PROCEEDS
    fulfillment: OrderFulfillment | None = None  # includedData=FULFILLMENT
    orderItems: list[OrderItem2026]


class Report(AmazonModel):
    reportId: str
    reportType: str
    processingStatus: str  # see PROCESSING_STATUSES
    createdTime: UtcTimestamp
    dataStartTime: UtcTimestamp | None = None
    dataEndTime: UtcTimestamp | None = None
    processingStartTime: UtcTimestamp | None = None
    processingEndTime: UtcTimestamp | None = None
    reportDocumentId: str | None = None  # only once processingStatus is DONE
    reportScheduleId: str | None = None
    marketplaceIds: list[str] = []


class ReportsList(AmazonModel):
    reports: list[Report]
    nextToken: str | None = None


class ReportDocument(AmazonModel):
    reportDocumentId: str
    url: str  # a pre-signed URL, valid a few minutes: download at once, without the access token
    compressionAlgorithm: str | None = None  # GZIP, or absent for a plain document
