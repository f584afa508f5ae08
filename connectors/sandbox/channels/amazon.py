"""Amazon.com: the retailer sells on Amazon's US marketplace and ships the orders itself (MFN).

Each business day (America/New_York, the US01 entity's zone) buyers place ORDERS_PER_DAY orders of
1-2 catalog SKUs. Amazon never gives the buyer's e-mail: BuyerInfo.BuyerEmail is a masked relay
address, stable per buyer. A few orders are cancelled before shipping; the rest ship from the 3PL
warehouse WH-NJ 2-30 hours after purchase (a ship stock movement referencing the AmazonOrderId),
unless the window ends first (they stay Unshipped). Some shipped orders are refunded 6-48 hours
later, when the buyer's return reaches WH-NJ (a return_receipt movement). Every event happens
inside the simulated window, so an order's LastUpdateDate is always a window day.

Money moves in settlements. Amazon's real settlement period is about 14 days; the sandbox settles
daily for brevity: settlement N covers business day N, 00:00 to 24:00 New York time, and lists what
was posted that day, the way the V2 flat file does: per shipped order ItemPrice/Principal, Tax and
Shipping, the marketplace-facilitator tax Amazon withholds (US marketplaces collect sales tax
themselves, so Tax nets to zero), and the referral fee (ItemFees/Commission, 15%); per refund the
reversed amounts, the referral fee given back and Amazon's refund administration fee
(RefundCommission). No FBA fees: the seller fulfils. The first settlement carries the Pro seller
subscription fee. Amazon creates the report a few hours after the period closes (so day N's report
is created on day N+1) and pays the total to the bank one day after the period ends (a Deposit).

The API-served reports render a share of transaction rows malformed (world.malformed_rate, an
amount with a currency suffix), which the parser quarantines. The last day's report also arrives
as a Seller Central download in the inbox (`amazon_settlements/`), byte for byte the report the API
serves, so loading both adds nothing.

Reconciliation truth (provider amazon; counterparts are the orders the Orders API serves: an
order's total for its sale rows, its refunded total for its refund rows). The ItemPrice and
Promotion rows of an order's shipment add up to its OrderTotal: many_to_one (order_reference_amount
if one row is left). A refund's rows make the order's refunded total themselves, so they always
match. At world.anomaly_rate, on a random stream of its own (so orders and reports stay as they
are), Amazon
- applies a price adjustment at shipment (a Promotion row the Orders API does not show): the order
  settles short of its total, order_reference with a variance and an amount_mismatch;
- passes on a buyer's card chargeback on a shipped order (Chargeback Refund rows): chargeback;
- (a quarter as often per order) grants a goodwill refund on an order placed before the history
  starts, kept by the buyer, so no order and no item it names is known: refund_without_order.
A quarantined row leaves its settlement short of the stated total (payout_total_mismatch) and, if
it was a sale row, its order short of its total (amount_mismatch).
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.sandbox.world import (
    WAREHOUSE,
    BookedOrder,
    ChannelOrder,
    Deposit,
    ReturnLink,
    SoldLine,
    StockMovement,
    World,
    cents,
    money,
)

CHANNEL = "amazon"
SOURCE = "amazon"
ORDERS_PER_DAY = 20  # about half the web shop's volume
TIME_ZONE = "America/New_York"
MARKETPLACE_ID = "ATVPDKIKX0DER"
MARKETPLACE_NAME = "Amazon.com"
INBOX_FOLDER = "amazon_settlements"
SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
TAX_RATE = WAREHOUSE.tax_rate  # orders ship from the warehouse; its state's rate applies
REFERRAL_FEE_RATE = Decimal("0.15")
MIN_REFERRAL_FEE = Decimal("0.30")
REFUND_ADMIN_FEE_RATE = Decimal("0.20")  # of the referral fee, at most 5.00
MAX_REFUND_ADMIN_FEE = Decimal("5.00")
SUBSCRIPTION_FEE = Decimal("39.99")
SHIPPING_PRICE = Decimal("5.99")
FREE_SHIPPING_FROM = Decimal("35.00")
CANCEL_SHARE = 0.03
REFUND_SHARE = 0.10
PROVIDER = "amazon"  # seeds/settlement_providers
PRICE_ADJUSTMENT_RATES = (Decimal("0.05"), Decimal("0.10"), Decimal("0.15"), Decimal("0.20"))
ANOMALIES = ("price_adjustment", "chargeback", "refund_of_order_before_history")
# the canonical event_type of an order transaction (int_amazon__settlement_row_events)
_EVENT_TYPES = {"Order": "sale", "Refund": "refund", "Chargeback Refund": "chargeback"}

COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
    "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
    "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date", "posted-date-time",
    "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id",
)
_STATES = {"New York": ("NY", "10013"), "Chicago": ("IL", "60622"), "San Francisco": ("CA", "94102"),
           "Albany": ("NY", "12207"), "Boston": ("MA", "02108"), "Austin": ("TX", "78701")}


@dataclass(slots=True)
class SettlementLine:
    transaction_type: str  # Order, Refund, other-transaction
    order_id: str
    amount_type: str
    amount_description: str
    amount: Decimal
    posted_at: datetime
    order_item_code: str = ""
    sku: str = ""
    quantity: int | None = None
    shipment_id: str = ""
    adjustment_id: str = ""
    promotion_id: str = ""
    malformed: bool = False  # rendered unparsable in the API-served report


@dataclass
class Settlement:
    settlement_id: str
    business_day: date
    start_at: datetime
    end_at: datetime
    deposit_at: datetime
    currency: str
    lines: list[SettlementLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


@dataclass
class AmazonSandbox:
    orders: list[dict]  # Orders v0 Order payloads, final state
    order_items: dict[str, list[dict]]  # AmazonOrderId -> OrderItem payloads
    reports: list[dict]  # Reports 2021-06-30 Report payloads (settlement reports, DONE)
    documents: dict[str, bytes]  # reportDocumentId -> the report file as Amazon serves it
    settlements: list[Settlement]
    inbox_files: dict[str, bytes]  # file name -> content, downloaded from Seller Central
    anomalies: dict[str, int] = field(default_factory=dict)  # what the simulation injected, by kind

    def report_document(self, report_id: str) -> bytes:
        report = next(r for r in self.reports if r["reportId"] == report_id)
        return self.documents[report["reportDocumentId"]]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _report_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _asin(sku: str) -> str:
    digest = base64.b32encode(hashlib.sha256(f"asin:{sku}".encode()).digest()).decode()
    return "B0" + digest[:8]


def _relay_email(world: World, customer_no: int) -> str:
    digest = base64.b32encode(hashlib.sha256(f"{world.seed}:buyer:{customer_no}".encode()).digest()).decode()
    return f"{digest[:16].lower()}@marketplace.amazon.com"


class _Simulation:
    def __init__(self, world: World, orders_per_day: int):
        self.world = world
        self.orders_per_day = orders_per_day
        self.rng = world.rng("amazon")
        self.malformed_rng = world.rng("amazon:malformed")
        self.anomaly_rng = world.rng("amazon:anomalies")
        self.anomalies = dict.fromkeys(ANOMALIES, 0)
        self.order_totals: dict[str, Decimal] = {}  # OrderTotal of every shipped order, as the Orders API says
        self.unknown_orders: set[str] = set()  # orders refunded that the Orders API does not know
        self.window_end = world.local(world.end_date, time(0), TIME_ZONE)
        self.orders: list[dict] = []
        self.items: dict[str, list[dict]] = {}
        self.postings: list[SettlementLine] = []
        self._ids: set[str] = set()

    def _unique(self, make) -> str:
        while (value := make()) in self._ids:
            pass
        self._ids.add(value)
        return value

    def _order_id(self, rng=None) -> str:
        rng = rng or self.rng
        return self._unique(lambda: f"11{rng.randint(1, 4)}-{rng.randrange(10 ** 7):07d}-{rng.randrange(10 ** 7):07d}")

    def _digits(self, n: int, rng=None) -> str:
        rng = rng or self.rng
        return self._unique(lambda: str(rng.randrange(10 ** (n - 1), 10 ** n)))

    def _inject(self, share: float = 1.0) -> bool:
        return self.anomaly_rng.random() < self.world.anomaly_rate * share

    def run(self) -> AmazonSandbox:
        for day in self.world.business_days:
            for _ in range(self.orders_per_day):
                self._order(day)
            for _ in range(self.orders_per_day):
                if self._inject(share=0.25):
                    self._refund_of_order_before_history(day)
        settlements = self._settlements()
        reports, documents = self._reports(settlements)
        last = settlements[-1]
        inbox = {f"{last.settlement_id}.txt": documents[reports[-1]["reportDocumentId"]]}
        self._register(settlements)
        self._tally(settlements)
        self._expect(settlements)
        return AmazonSandbox(self.orders, self.items, reports, documents, settlements, inbox, dict(self.anomalies))

    # ---- orders -----------------------------------------------------------------------------
    def _order(self, day: date) -> None:
        rng, world = self.rng, self.world
        purchased = world.local(day, time(0), TIME_ZONE) + timedelta(seconds=rng.randrange(86_400))
        customer = rng.choice(world.customers)
        order_id = self._order_id()
        skus = rng.sample(world.catalog, rng.choice((1, 1, 1, 2)))
        lines = []
        for sku in skus:
            quantity = rng.choice((1, 1, 1, 1, 2))
            principal = sku.price * quantity
            lines.append({"sku": sku, "quantity": quantity, "principal": principal, "tax": cents(principal * TAX_RATE),
                          "shipping": Decimal("0.00"), "item_id": self._digits(14)})
        subtotal = sum((line["principal"] for line in lines), Decimal("0"))
        if subtotal < FREE_SHIPPING_FROM:
            lines[0]["shipping"] = SHIPPING_PRICE  # the seller's shipping template charges per order

        cancelled = rng.random() < CANCEL_SHARE
        shipped_at = purchased + timedelta(seconds=rng.randrange(2 * 3600, 30 * 3600))
        refund_at = shipped_at + timedelta(seconds=rng.randrange(6 * 3600, 48 * 3600))
        refunded = not cancelled and rng.random() < REFUND_SHARE
        if cancelled:
            status, updated, shipped_at = "Canceled", purchased + timedelta(minutes=rng.randrange(5, 120)), None
        elif shipped_at >= self.window_end:
            status, updated, shipped_at = "Unshipped", purchased, None
        else:
            status, updated = "Shipped", shipped_at
        if shipped_at is None or not refunded or refund_at >= self.window_end:
            refund_at = None
        updated = refund_at or updated

        total = sum((line["principal"] + line["tax"] + line["shipping"] for line in lines), Decimal("0"))
        shipped_quantity = sum(line["quantity"] for line in lines) if shipped_at else 0
        state, postal = _STATES.get(customer.city, ("NY", "10001"))
        self.orders.append({
            "AmazonOrderId": order_id, "PurchaseDate": _iso(purchased), "LastUpdateDate": _iso(updated),
            "OrderStatus": status, "FulfillmentChannel": "MFN", "SalesChannel": MARKETPLACE_NAME,
            "ShipServiceLevel": "Std US D2D Dom", "ShipmentServiceLevelCategory": "Standard",
            "OrderTotal": None if cancelled else {"CurrencyCode": world.currency, "Amount": money(total)},
            "NumberOfItemsShipped": shipped_quantity,
            "NumberOfItemsUnshipped": 0 if cancelled or shipped_at else sum(line["quantity"] for line in lines),
            "PaymentMethod": "Other", "PaymentMethodDetails": ["Standard"], "MarketplaceId": MARKETPLACE_ID,
            "OrderType": "StandardOrder", "IsBusinessOrder": False, "IsPrime": rng.random() < 0.4,
            "IsPremiumOrder": False, "IsGlobalExpressEnabled": False, "IsReplacementOrder": False,
            "IsSoldByAB": False, "IsISPU": False, "IsAccessPointOrder": False,
            "EarliestShipDate": _iso(purchased), "LatestShipDate": _iso(purchased + timedelta(days=2)),
            "ShippingAddress": {"City": customer.city, "StateOrRegion": state, "PostalCode": postal,
                                "CountryCode": "US"},
            "BuyerInfo": {"BuyerEmail": _relay_email(world, customer.customer_no)},
        })
        self.items[order_id] = [{
            "ASIN": _asin(line["sku"].sku), "SellerSKU": line["sku"].sku, "OrderItemId": line["item_id"],
            "Title": line["sku"].title, "QuantityOrdered": line["quantity"],
            "QuantityShipped": line["quantity"] if shipped_at else 0,
            "ItemPrice": {"CurrencyCode": world.currency, "Amount": money(line["principal"])},
            "ItemTax": {"CurrencyCode": world.currency, "Amount": money(line["tax"])},
            "ShippingPrice": {"CurrencyCode": world.currency, "Amount": money(line["shipping"])},
            "ShippingTax": {"CurrencyCode": world.currency, "Amount": "0.00"},
            "PromotionDiscount": {"CurrencyCode": world.currency, "Amount": "0.00"},
            "PromotionDiscountTax": {"CurrencyCode": world.currency, "Amount": "0.00"},
            "PromotionIds": [], "IsGift": "false", "ConditionId": "New", "ConditionSubtypeId": "New",
            "IsTransparency": False, "SerialNumberRequired": False,
            "TaxCollection": {"Model": "MarketplaceFacilitator", "ResponsibleParty": "Amazon Services, Inc."},
        } for line in lines]
        if cancelled:
            return
        world.orders.append(ChannelOrder(
            channel=CHANNEL, order_id=order_id, order_name=order_id, location=WAREHOUSE.code,
            customer_no=customer.customer_no, at=purchased.astimezone(timezone.utc), currency=world.currency,
            lines=[SoldLine(line["item_id"], line["sku"].sku, line["quantity"], line["sku"].price, Decimal("0.00"),
                            line["tax"]) for line in lines]))
        if shipped_at:
            self.order_totals[order_id] = total
            self._ship(order_id, lines, shipped_at)
        if refund_at:
            self._refund(order_id, lines[0], len(lines) == 1, refund_at)
        elif shipped_at and not refunded and self._inject():
            disputed_at = shipped_at + timedelta(seconds=self.anomaly_rng.randrange(86_400, 4 * 86_400))
            if disputed_at < self.window_end:  # else disputed after the history ends: not seen yet
                self._chargeback(order_id, lines, disputed_at)

    def _ship(self, order_id: str, lines: list[dict], at: datetime) -> None:
        shipment = "D" + self._digits(9)
        for line in lines:
            self.world.stock_movements.append(StockMovement(
                sku=line["sku"].sku, location=WAREHOUSE.code, kind="ship", quantity=-line["quantity"],
                at=at.astimezone(timezone.utc), reference=order_id))
            common = {"transaction_type": "Order", "order_id": order_id, "posted_at": at,
                      "order_item_code": line["item_id"], "sku": line["sku"].sku, "quantity": line["quantity"],
                      "shipment_id": shipment}
            self._post(common, "ItemPrice", "Principal", line["principal"])
            self._post(common, "ItemPrice", "Tax", line["tax"])
            if line["shipping"]:
                self._post(common, "ItemPrice", "Shipping", line["shipping"])
            if line is lines[0] and self._inject():
                # Amazon lowered the price at shipment (a price match it funds from the seller's proceeds);
                # the Orders API still shows the price the buyer ordered at.
                self.anomalies["price_adjustment"] += 1
                rate = self.anomaly_rng.choice(PRICE_ADJUSTMENT_RATES)
                promotion = f"PLM_{self.anomaly_rng.getrandbits(64):016x}"
                self._post({**common, "promotion_id": promotion}, "Promotion", "Principal",
                           -cents(line["principal"] * rate))
            self._post(common, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", -line["tax"])
            self._post(common, "ItemFees", "Commission", -_referral_fee(line))

    def _refund(self, order_id: str, line: dict, with_shipping: bool, at: datetime) -> None:
        self.world.stock_movements.append(StockMovement(
            sku=line["sku"].sku, location=WAREHOUSE.code, kind="return_receipt", quantity=line["quantity"],
            at=at.astimezone(timezone.utc), reference=order_id))
        common = {"transaction_type": "Refund", "order_id": order_id, "posted_at": at,
                  "order_item_code": line["item_id"], "sku": line["sku"].sku, "adjustment_id": self._digits(14)}
        fee = _referral_fee(line)
        self._post(common, "ItemPrice", "Principal", -line["principal"])
        self._post(common, "ItemPrice", "Tax", -line["tax"])
        if with_shipping and line["shipping"]:
            self._post(common, "ItemPrice", "Shipping", -line["shipping"])
        self._post(common, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", line["tax"])
        self._post(common, "ItemFees", "Commission", fee)
        admin_fee = min(MAX_REFUND_ADMIN_FEE, cents(fee * REFUND_ADMIN_FEE_RATE))
        self._post(common, "ItemFees", "RefundCommission", -admin_fee)

    def _chargeback(self, order_id: str, lines: list[dict], at: datetime) -> None:
        """The buyer's card issuer takes the whole order back (the goods stay with the buyer); Amazon passes
        it on as a Chargeback Refund, giving back the tax it withheld and its referral fee."""
        self.anomalies["chargeback"] += 1
        adjustment = self._digits(14, self.anomaly_rng)
        for line in lines:
            common = {"transaction_type": "Chargeback Refund", "order_id": order_id, "posted_at": at,
                      "order_item_code": line["item_id"], "sku": line["sku"].sku, "adjustment_id": adjustment}
            self._post(common, "ItemPrice", "Principal", -line["principal"])
            self._post(common, "ItemPrice", "Tax", -line["tax"])
            if line["shipping"]:
                self._post(common, "ItemPrice", "Shipping", -line["shipping"])
            self._post(common, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", line["tax"])
            self._post(common, "ItemFees", "Commission", _referral_fee(line))

    def _refund_of_order_before_history(self, day: date) -> None:
        """A goodwill refund on an order placed before the history starts, the buyer keeping the goods:
        the Orders API pull does not reach the order, and no stock comes back to the warehouse."""
        rng = self.anomaly_rng
        self.anomalies["refund_of_order_before_history"] += 1
        order_id = self._order_id(rng)
        self.unknown_orders.add(order_id)
        at = self.world.local(day, time(0), TIME_ZONE) + timedelta(seconds=rng.randrange(86_400))
        common = {"transaction_type": "Refund", "order_id": order_id, "posted_at": at,
                  "adjustment_id": self._digits(14, rng)}
        self._post(common, "ItemPrice", "Goodwill", -cents(rng.choice(self.world.catalog).price * Decimal("0.5")))

    def _post(self, common: dict, amount_type: str, description: str, amount: Decimal) -> None:
        self.postings.append(SettlementLine(amount_type=amount_type, amount_description=description,
                                            amount=cents(amount), **common))

    # ---- settlements ------------------------------------------------------------------------
    def _settlements(self) -> list[Settlement]:
        world, base = self.world, 11_000_000_000 + self.rng.randrange(10 ** 8) * 10
        settlements = []
        for number, day in enumerate(world.business_days):
            start = world.local(day, time(0), TIME_ZONE)
            end = world.local(day + timedelta(days=1), time(0), TIME_ZONE)
            settlement = Settlement(str(base + number), day, start.astimezone(timezone.utc),
                                    end.astimezone(timezone.utc), (end + timedelta(days=1)).astimezone(timezone.utc),
                                    world.currency)
            if number == 0:
                settlement.lines.append(SettlementLine("other-transaction", "", "other-transaction", "Subscription Fee",
                                                       -SUBSCRIPTION_FEE, start + timedelta(hours=1)))
            settlement.lines += sorted((p for p in self.postings if start <= p.posted_at < end),
                                       key=lambda p: (p.posted_at, p.order_id))
            for line in settlement.lines:
                line.malformed = self.malformed_rng.random() < world.malformed_rate
            settlements.append(settlement)
        return settlements

    def _reports(self, settlements: list[Settlement]) -> tuple[list[dict], dict[str, bytes]]:
        reports, documents = [], {}
        for settlement in settlements:
            created = settlement.end_at + timedelta(hours=2, minutes=self.rng.randrange(60))
            document_id = f"amzn1.spdoc.1.4.na.{self.rng.getrandbits(128):032x}"
            reports.append({
                "reportType": SETTLEMENT_REPORT_TYPE, "processingEndTime": _iso(created + timedelta(minutes=1)),
                "processingStatus": "DONE", "marketplaceIds": [MARKETPLACE_ID], "reportDocumentId": document_id,
                "reportId": self._digits(11), "dataEndTime": _iso(settlement.end_at),
                "createdTime": _iso(created), "processingStartTime": _iso(created),
                "dataStartTime": _iso(settlement.start_at),
            })
            documents[document_id] = render_report(settlement)
        return reports, documents

    def _register(self, settlements: list[Settlement]) -> None:
        world = self.world
        world.count(SOURCE, "orders", len(self.orders))
        world.count(SOURCE, "order_items", sum(len(items) for items in self.items.values()))
        lines = [line for settlement in settlements for line in settlement.lines]
        world.count(SOURCE, "settlement_report_rows", sum(not line.malformed for line in lines))
        world.count(SOURCE, "_quarantine", sum(line.malformed for line in lines))
        for settlement in settlements:
            if settlement.total > 0:  # a negative balance is charged to the seller's card, not paid out
                world.deposits.append(Deposit(
                    provider="amazon", payout_id=settlement.settlement_id, amount=settlement.total,
                    currency=settlement.currency,
                    value_date=settlement.deposit_at.astimezone(ZoneInfo(TIME_ZONE)).date(),
                    bank_reference=f"AMAZON.COM SERVICES LLC SETTLEMENT {settlement.settlement_id}"))


    # ---- ground truth of the canonical marts ---------------------------------------------------
    def _business_date(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(TIME_ZONE)).date()

    def _tally(self, settlements: list[Settlement]) -> None:
        """What int_amazon__* must hold, counted the way the models count what the sandbox serves.

        Orders and lines: every order the Orders API serves (a cancelled one too, financial_status
        voided), dated by PurchaseDate; order_total = items + shipping + tax, a line's net = ItemPrice +
        ItemTax. Payments and returns come from the settlement report rows that parse (a malformed row
        is quarantined, so its amount reaches no event): one event per order transaction (gross = its
        ItemPrice and Promotion rows), one fee per other-transaction row (gross 0), one payout per
        settlement (gross = -total); one returned line per refunded item (refund = -its ItemPrice rows),
        linked to the item.
        """
        world = self.world
        for order in self.orders:
            ordered = self._business_date(datetime.fromisoformat(order["PurchaseDate"].replace("Z", "+00:00")))
            items = self.items[order["AmazonOrderId"]]
            total = Decimal("0")
            for item in items:
                net = Decimal(item["ItemPrice"]["Amount"]) + Decimal(item["ItemTax"]["Amount"])
                world.tally("order_lines", CHANNEL, ordered, net)
                total += net + Decimal(item["ShippingPrice"]["Amount"])
            world.tally("orders", CHANNEL, ordered, total)
            world.book_order(self._booked(order, items, ordered))

        events: dict[tuple, dict] = {}
        refunds: dict[tuple, dict] = {}
        for settlement in settlements:
            parsed = [line for line in settlement.lines if not line.malformed]
            for number, line in enumerate(parsed):
                gross = line.amount if line.amount_type in ("ItemPrice", "Promotion") else Decimal("0")
                if line.order_id:
                    key = (settlement.settlement_id, line.transaction_type, line.order_id,
                           line.adjustment_id or line.shipment_id)
                else:
                    key = (settlement.settlement_id, number)
                event = events.setdefault(key, {"at": line.posted_at, "gross": Decimal("0"), "order_id": line.order_id,
                                                "event_type": _EVENT_TYPES.get(line.transaction_type, "adjustment")})
                event["gross"] += gross
                if line.transaction_type == "Refund" and line.order_item_code:
                    key = (line.adjustment_id, line.order_id, line.order_item_code)
                    refund = refunds.setdefault(key, {"at": line.posted_at, "amount": Decimal("0")})
                    refund["amount"] -= gross
            if parsed and settlement.total:
                world.tally("payments", CHANNEL, self._business_date(settlement.deposit_at), -settlement.total)
        for event in events.values():
            world.tally("payments", CHANNEL, self._business_date(event["at"]), event["gross"])
            if event["order_id"]:
                world.book_payment(PROVIDER, CHANNEL, event["order_id"], event["event_type"], event["gross"],
                                   self._business_date(event["at"]))
        for (adjustment_id, order_id, item_id), refund in refunds.items():
            world.tally("returns", CHANNEL, self._business_date(refund["at"]), refund["amount"])
            world.return_links.append(ReturnLink(CHANNEL, f"{adjustment_id}:{item_id}", CHANNEL, order_id, item_id))

    @staticmethod
    def _booked(order: dict, items: list[dict], ordered: date) -> BookedOrder:
        """The order as int_amazon__orders adds it up from its items; a cancelled one is voided."""
        def total(*fields: str) -> Decimal:
            return sum((Decimal(item[name]["Amount"]) for item in items for name in fields), Decimal("0"))
        return BookedOrder(
            CHANNEL, order["AmazonOrderId"], WAREHOUSE.code, ordered,
            (order["OrderTotal"] or {}).get("CurrencyCode") or items[0]["ItemPrice"]["CurrencyCode"],
            gross_sales=total("ItemPrice"), discount_total=total("PromotionDiscount"),
            shipping_total=total("ShippingPrice"),
            tax_total=total("ItemTax", "ShippingTax") - total("PromotionDiscountTax"),
            voided=order["OrderStatus"] == "Canceled")

    # ---- reconciliation truth ----------------------------------------------------------------
    def _expect(self, settlements: list[Settlement]) -> None:
        """What reconciling the report rows that parse must find (counterpart = the order).

        An order's sale rows settle its OrderTotal, short of it by a price adjustment or a quarantined row
        (order_reference, variance = settled - total: amount_mismatch of the line, or of the order's group
        when several are left); complete, they match it exactly (many_to_one, or order_reference_amount
        when one is left). Refund rows match the refunded total they make. Chargebacks and refunds of
        unknown orders have no counterpart. A settlement that lost rows to quarantine no longer ties out.
        """
        world = self.world
        groups: dict[tuple[str, str], list[tuple[str, Decimal]]] = {}
        for settlement in settlements:
            quarantined = [line.amount for line in settlement.lines if line.malformed]
            if len(quarantined) < len(settlement.lines) and sum(quarantined, Decimal("0")):
                world.expect_exception(PROVIDER, "payout_total_mismatch", "payout", settlement.settlement_id)
            for index, line in enumerate(settlement.lines):
                if line.malformed or line.amount_type not in ("ItemPrice", "Promotion") or not line.order_id:
                    continue  # quarantined, or a fee that needs no match
                line_id = settlement_line_id(settlement, index)
                if line.transaction_type == "Chargeback Refund":
                    world.expect_exception(PROVIDER, "chargeback", "settlement_line", line_id)
                elif line.order_id in self.unknown_orders:
                    world.expect_exception(PROVIDER, "refund_without_order", "settlement_line", line_id)
                else:
                    kind = "sale" if line.transaction_type == "Order" else "refund"
                    groups.setdefault((line.order_id, kind), []).append((line_id, line.amount))
        for (order_id, kind), lines in groups.items():
            settled = sum((amount for _, amount in lines), Decimal("0"))
            variance = settled - self.order_totals[order_id] if kind == "sale" else Decimal("0")
            if variance:
                rule = "order_reference"
                if len(lines) == 1:
                    world.expect_exception(PROVIDER, "amount_mismatch", "settlement_line", lines[0][0])
                else:
                    world.expect_exception(PROVIDER, "amount_mismatch", "settlement_group",
                                           f"{PROVIDER}:{order_id}:{kind}")
            else:
                rule = "order_reference_amount" if len(lines) == 1 else "many_to_one"
            for line_id, _ in lines:
                world.expect_match(PROVIDER, line_id, order_id, rule, variance)


def settlement_line_id(settlement: Settlement, index: int) -> str:
    """The settlement line of a report row: amazon:settlement:file line (header line 1, summary line 2)."""
    return f"{PROVIDER}:{settlement.settlement_id}:{index + 3}"


def _referral_fee(line: dict) -> Decimal:
    return max(MIN_REFERRAL_FEE, cents((line["principal"] + line["shipping"]) * REFERRAL_FEE_RATE))


def render_report(settlement: Settlement) -> bytes:
    """The settlement as Amazon's V2 flat file: tab-separated, summary row first, US number and date formats."""
    rows = [{"settlement-id": settlement.settlement_id, "settlement-start-date": _report_time(settlement.start_at),
             "settlement-end-date": _report_time(settlement.end_at),
             "deposit-date": _report_time(settlement.deposit_at), "total-amount": money(settlement.total),
             "currency": settlement.currency}]
    for line in settlement.lines:
        amount = money(line.amount)
        rows.append({
            "settlement-id": settlement.settlement_id, "transaction-type": line.transaction_type,
            "order-id": line.order_id, "adjustment-id": line.adjustment_id, "shipment-id": line.shipment_id,
            "marketplace-name": MARKETPLACE_NAME if line.order_id else "", "amount-type": line.amount_type,
            "amount-description": line.amount_description,
            "amount": f"{amount} {settlement.currency}" if line.malformed else amount,
            "fulfillment-id": "MFN" if line.order_id else "",
            "posted-date": line.posted_at.astimezone(timezone.utc).date().isoformat(),
            "posted-date-time": _report_time(line.posted_at), "order-item-code": line.order_item_code,
            "sku": line.sku, "quantity-purchased": "" if line.quantity is None else str(line.quantity),
            "promotion-id": line.promotion_id,
        })
    text = "\t".join(COLUMNS) + "\r\n"
    text += "".join("\t".join(row.get(column, "") for column in COLUMNS) + "\r\n" for row in rows)
    return text.encode("utf-8")


def simulate(world: World, *, orders_per_day: int = ORDERS_PER_DAY) -> AmazonSandbox:
    """Amazon's part of the world: orders, settlements, reports; appends to the world's shared ledgers."""
    return _Simulation(world, orders_per_day).run()


def drop_files(sandbox: AmazonSandbox, inbox_root: Path) -> list[Path]:
    """Write the Seller Central downloads into inbox_root/amazon_settlements/ (existing files are kept)."""
    folder = Path(inbox_root) / INBOX_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in sorted(sandbox.inbox_files.items()):
        path = folder / name
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
        paths.append(path)
    return paths
