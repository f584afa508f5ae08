"""The sandbox's Amazon orders as Orders API 2026-01-01 serves them (searchOrders' `orders`).

The simulation keeps each order in its Orders v0 form (an Order and its OrderItems); this renders
one as the newer API does: camelCase, the status and fulfiller in upper-case enums, the items inside
the order, and the amounts as proceeds breakdowns (ITEM, SHIPPING, TAX split by what it is on,
DISCOUNT as a negative amount that sums into the total). Only the datasets asked for by `includedData`
are present; the items always are.
"""
from __future__ import annotations

from decimal import Decimal

STATUSES = {"PendingAvailability": "PENDING_AVAILABILITY", "Pending": "PENDING", "Unshipped": "UNSHIPPED",
            "PartiallyShipped": "PARTIALLY_SHIPPED", "Shipped": "SHIPPED", "Canceled": "CANCELLED",
            "Unfulfillable": "UNFULFILLABLE"}
FULFILLED_BY = {"MFN": "MERCHANT", "AFN": "AMAZON"}
SERVICE_LEVELS = {"Standard": "STANDARD", "Expedited": "EXPEDITED", "NextDay": "NEXT_DAY", "SecondDay": "SECOND_DAY",
                  "Scheduled": "SCHEDULED", "SameDay": "SAME_DAY", "FreeEconomy": "FREE_ECONOMY",
                  "Priority": "PRIORITY"}
INCLUDED_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                 "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS")


def _money(amount: Decimal, currency: str) -> dict:
    return {"amount": f"{amount:.2f}", "currencyCode": currency}


def _amount(item: dict, name: str) -> Decimal:
    return Decimal(item[name]["Amount"]) if item.get(name) else Decimal("0")


def _detailed(kind: str, parts: list[tuple[str, Decimal]], currency: str) -> dict:
    """A TAX or DISCOUNT breakdown: its subtotal, and what each part of it applies to."""
    return {"type": kind, "subtotal": _money(sum(amount for _, amount in parts), currency),
            "detailedBreakdowns": [{"subtype": subtype, "value": _money(amount, currency)}
                                   for subtype, amount in parts]}


def _item_proceeds(item: dict) -> dict:
    currency = item["ItemPrice"]["CurrencyCode"]
    breakdowns = [{"type": "ITEM", "subtotal": _money(_amount(item, "ItemPrice"), currency)}]
    if _amount(item, "ShippingPrice"):
        breakdowns.append({"type": "SHIPPING", "subtotal": _money(_amount(item, "ShippingPrice"), currency)})
    # The tax on a discount lowers the tax; a discount lowers the proceeds.
    taxes = [(subtype, sign * _amount(item, name)) for subtype, name, sign in
             (("ITEM", "ItemTax", 1), ("SHIPPING", "ShippingTax", 1), ("DISCOUNT", "PromotionDiscountTax", -1))
             if _amount(item, name)]
    if taxes:
        breakdowns.append(_detailed("TAX", taxes, currency))
    discounts = [(subtype, -_amount(item, name)) for subtype, name in
                 (("ITEM", "PromotionDiscount"), ("SHIPPING", "ShippingDiscount")) if _amount(item, name)]
    if discounts:
        breakdowns.append(_detailed("DISCOUNT", discounts, currency))
    total = sum(Decimal(b["subtotal"]["amount"]) for b in breakdowns)
    return {"proceedsTotal": _money(total, currency), "breakdowns": breakdowns}


def _item(item: dict, included: set[str], cancelled: bool) -> dict:
    rendered = {
        "orderItemId": item["OrderItemId"], "quantityOrdered": item["QuantityOrdered"],
        "product": {"asin": item["ASIN"], "title": item.get("Title"), "sellerSku": item.get("SellerSKU"),
                    "condition": {"conditionType": item.get("ConditionId", "New").upper(),
                                  "conditionSubtype": item.get("ConditionSubtypeId", "New").upper()},
                    "price": {"unitPrice": _money(_amount(item, "ItemPrice") / item["QuantityOrdered"],
                                                  item["ItemPrice"]["CurrencyCode"])}},
    }
    if "PROCEEDS" in included:
        rendered["proceeds"] = _item_proceeds(item)
    if "PROMOTION" in included and item.get("PromotionIds"):
        rendered["promotion"] = {"breakdowns": [{"promotionId": p} for p in item["PromotionIds"]]}
    if "FULFILLMENT" in included:
        shipped = item.get("QuantityShipped") or 0
        rendered["fulfillment"] = {"quantityFulfilled": shipped,  # nothing is left to ship once cancelled
                                   "quantityUnfulfilled": 0 if cancelled else item["QuantityOrdered"] - shipped}
    return rendered


def render_order(order: dict, items: list[dict], included: set[str]) -> dict:
    """One v0 Order and its OrderItems as a 2026-01-01 Order with the datasets in `included`."""
    rendered = {
        "orderId": order["AmazonOrderId"],
        "orderAliases": ([{"aliasId": order["SellerOrderId"], "aliasType": "SELLER_ORDER_ID"}]
                         if order.get("SellerOrderId") else []),
        "createdTime": order["PurchaseDate"], "lastUpdatedTime": order["LastUpdateDate"],
        "programs": [name for name, flag in (("PRIME", "IsPrime"), ("AMAZON_BUSINESS", "IsBusinessOrder"))
                     if order.get(flag)],
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": order["MarketplaceId"],
                         "marketplaceName": order.get("SalesChannel")},
    }
    if "BUYER" in included and order.get("BuyerInfo"):
        rendered["buyer"] = {"buyerEmail": order["BuyerInfo"].get("BuyerEmail")}
    if "RECIPIENT" in included and order.get("ShippingAddress"):
        address = order["ShippingAddress"]
        rendered["recipient"] = {"deliveryAddress": {
            "city": address.get("City"), "stateOrRegion": address.get("StateOrRegion"),
            "postalCode": address.get("PostalCode"), "countryCode": address.get("CountryCode")}}
    cancelled = order["OrderStatus"] == "Canceled"
    rendered_items = [_item(item, included, cancelled) for item in items]
    if "PROCEEDS" in included:
        by_type: dict[str, Decimal] = {}  # the order's breakdowns: its items' added up by type
        for item in rendered_items:
            for breakdown in item["proceeds"]["breakdowns"]:
                by_type[breakdown["type"]] = by_type.get(breakdown["type"], Decimal("0")) + Decimal(
                    breakdown["subtotal"]["amount"])
        currency = (order.get("OrderTotal") or {}).get("CurrencyCode") or items[0]["ItemPrice"]["CurrencyCode"]
        rendered["proceeds"] = {"breakdowns": [{"type": kind, "subtotal": _money(amount, currency)}
                                               for kind, amount in by_type.items()]}
        if order.get("OrderTotal"):  # none on a cancelled order, as in v0
            rendered["proceeds"]["grandTotal"] = _money(Decimal(order["OrderTotal"]["Amount"]), currency)
    if "FULFILLMENT" in included:
        rendered["fulfillment"] = {
            "fulfillmentStatus": STATUSES[order["OrderStatus"]],
            "fulfilledBy": FULFILLED_BY[order["FulfillmentChannel"]],
            "fulfillmentServiceLevel": SERVICE_LEVELS.get(order.get("ShipmentServiceLevelCategory"), "STANDARD"),
            "shipByWindow": {"earliestDateTime": order.get("EarliestShipDate"),
                             "latestDateTime": order.get("LatestShipDate")}}
    rendered["orderItems"] = rendered_items
    return rendered
