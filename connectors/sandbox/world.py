"""The one retailer every sandbox channel sells for: its SKUs, stores, warehouse, customers and ledgers.

Each channel simulation (Shopify web, Amazon, the regional marketplace, store POS) draws from the
same catalog, locations and customers, and writes what other parts of the world must see into
shared ledgers: card payments a PSP settles, payouts the bank receives, and stock movements the
WMS reports. The simulations run in a fixed order (channels, then PSPs, then WMS and bank), each
with its own random stream (`rng(name)`), so adding a channel never changes another one's data.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    return format(cents(value), "f")


@dataclass(frozen=True)
class Sku:
    sku: str
    title: str
    price: Decimal  # list price in USD, tax exclusive
    unit_cost: Decimal  # the ERP's standard cost
    tax_code: str
    barcode: str


CATALOG: tuple[Sku, ...] = (
    Sku("TEE-BLK-M", "Organic tee black M", Decimal("24.00"), Decimal("7.80"), "APPAREL", "0840001000011"),
    Sku("TEE-WHT-L", "Organic tee white L", Decimal("24.00"), Decimal("7.80"), "APPAREL", "0840001000028"),
    Sku("HOOD-GRY-M", "Fleece hoodie grey M", Decimal("68.50"), Decimal("23.10"), "APPAREL", "0840001000035"),
    Sku("CAP-NVY", "Cotton cap navy", Decimal("19.99"), Decimal("5.25"), "APPAREL", "0840001000042"),
    Sku("SOCK-3PK", "Merino socks 3-pack", Decimal("21.75"), Decimal("6.40"), "APPAREL", "0840001000059"),
    Sku("JKT-RAIN-S", "Rain jacket S", Decimal("149.00"), Decimal("52.00"), "APPAREL", "0840001000066"),
    Sku("BAG-TOTE", "Canvas tote", Decimal("34.90"), Decimal("9.95"), "GENERAL", "0840001000073"),
    Sku("BTL-STEEL", "Steel bottle 750ml", Decimal("27.45"), Decimal("8.15"), "GENERAL", "0840001000080"),
    Sku("BEANIE-RED", "Wool beanie red", Decimal("29.00"), Decimal("8.70"), "APPAREL", "0840001000097"),
    Sku("SHORT-OLV-M", "Trail shorts olive M", Decimal("54.25"), Decimal("18.30"), "APPAREL", "0840001000103"),
)


@dataclass(frozen=True)
class LegalEntity:
    legal_entity_id: str
    name: str
    functional_currency: str
    time_zone: str
    country: str


LEGAL_ENTITIES: tuple[LegalEntity, ...] = (
    LegalEntity("US01", "Omnirecon Retail US Inc.", "USD", "America/New_York", "US"),
)


@dataclass(frozen=True)
class Location:
    code: str
    name: str
    kind: str  # store or warehouse
    time_zone: str
    legal_entity_id: str
    tax_rate: Decimal  # combined sales tax where the location sells
    city: str
    region: str


LOCATIONS: tuple[Location, ...] = (
    Location("WH-NJ", "3PL fulfilment centre Edison", "warehouse", "America/New_York", "US01", Decimal("0.08875"),
             "Edison", "NJ"),
    Location("ST-NYC", "SoHo store", "store", "America/New_York", "US01", Decimal("0.08875"), "New York", "NY"),
    Location("ST-CHI", "Wicker Park store", "store", "America/Chicago", "US01", Decimal("0.1025"), "Chicago", "IL"),
    Location("ST-SFO", "Hayes Valley store", "store", "America/Los_Angeles", "US01", Decimal("0.08625"),
             "San Francisco", "CA"),
)
WAREHOUSE = LOCATIONS[0]
STORES = tuple(loc for loc in LOCATIONS if loc.kind == "store")


@dataclass(frozen=True)
class Customer:
    customer_no: int
    email: str
    first_name: str
    last_name: str
    city: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# Records kept per order, payment or movement have __slots__: a peak-season world holds millions of them.
@dataclass(slots=True)
class SoldLine:
    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal  # before discount, tax exclusive
    discount: Decimal  # for the whole line
    tax: Decimal  # for the whole line


@dataclass(slots=True)
class ChannelOrder:
    """An order as the world remembers it, for other channels to refer to (e.g. a web order returned in store)."""
    channel: str  # shopify_web, amazon, marketplace_<name>, pos
    order_id: str
    order_name: str
    location: str  # fulfilling location (store for POS)
    customer_no: int | None
    at: datetime
    currency: str
    lines: list[SoldLine]


@dataclass(frozen=True, slots=True)
class ReturnLink:
    """A returned line as the canonical returns mart must link it: where it came back, what it takes back."""
    channel: str  # where it was returned (pos for a store)
    return_line_id: str
    original_channel: str
    original_order_id: str
    original_order_line_id: str


@dataclass(slots=True)
class CardPayment:
    """A payment a PSP captures for a channel and later settles (or refunds)."""
    psp: str  # stripe, adyen
    psp_reference: str  # the PSP's id (Stripe charge id, Adyen PSP reference)
    merchant_reference: str  # what the channel gave the PSP (order name, POS payment id)
    channel: str
    order_id: str
    kind: str  # capture or refund
    amount: Decimal  # positive
    currency: str
    at: datetime


@dataclass
class Deposit:
    """A payout that reaches the retailer's bank account."""
    provider: str
    payout_id: str
    amount: Decimal
    currency: str
    value_date: date
    bank_reference: str  # the text on the statement line


@dataclass(frozen=True, slots=True)
class BookedOrder:
    """An order as marts.orders holds it, with the amounts its sales journal books (sales_journals.py)."""
    channel: str
    order_id: str
    location: str  # the store for POS, the ship-from location otherwise
    business_date: date
    currency: str
    gross_sales: Decimal
    discount_total: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    tip_total: Decimal = Decimal("0")  # tips on store card tenders: owed to staff, not in order_total
    voided: bool = False  # cancelled before anything was charged (financial_status voided): books nothing

    @property
    def order_total(self) -> Decimal:
        return self.gross_sales - self.discount_total + self.shipping_total + self.tax_total


@dataclass(frozen=True, slots=True)
class OrderPayment:
    """A payment event of marts.payments about an order: what the customer paid, or got back, through whom."""
    provider: str
    channel: str  # the channel of the order it belongs to (a store refund of a web order: shopify_web)
    order_id: str
    event_type: str  # capture, sale, refund, authorization, chargeback, ...
    gross_amount: Decimal  # signed from the retailer's side: a refund is negative
    business_date: date


@dataclass(frozen=True, slots=True)
class ExpectedMatch:
    """A settlement line and what it pays for, as a correct reconciliation must match them.

    counterpart_id is the payment_id of marts.payments for a PSP, the channel's order id for a
    marketplace (Amazon, marketplace_*) whose settlements pay orders; variance is the line's (or its
    match group's) amount less the counterpart's.
    """
    provider: str
    settlement_line_id: str
    counterpart_id: str
    match_rule: str  # exact_reference, order_reference_amount, many_to_one, one_to_many, amount_tolerance, order_reference
    variance: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class ExpectedException:
    """An item a correct reconciliation leaves for a person, with its reason code."""
    provider: str
    reason_code: str
    reference_type: str  # settlement_line, payment, payout, settlement_group
    reference_id: str


@dataclass(slots=True)
class StockMovement:
    sku: str
    location: str
    kind: str  # receipt, adjustment, pick, ship, transfer_out, transfer_in, return_receipt, damage
    quantity: int  # signed effect on on-hand
    at: datetime
    reference: str  # order, PO or transfer the movement belongs to


@dataclass
class World:
    """Shared reference data, ledgers and ground truth of one simulation run."""
    seed: int
    start_date: date
    days: int
    currency: str = "USD"
    # share of rows in dropped files that a simulation renders malformed (each is quarantined on load)
    malformed_rate: float = 0.02
    # chance that a settlement event goes wrong in one of the ways finance must see (see expect_exception)
    anomaly_rate: float = 0.05
    catalog: tuple[Sku, ...] = CATALOG
    legal_entities: tuple[LegalEntity, ...] = LEGAL_ENTITIES
    locations: tuple[Location, ...] = LOCATIONS
    customers: list[Customer] = field(default_factory=list)
    orders: list[ChannelOrder] = field(default_factory=list)
    card_payments: list[CardPayment] = field(default_factory=list)
    deposits: list[Deposit] = field(default_factory=list)
    stock_movements: list[StockMovement] = field(default_factory=list)
    # ground truth of what each source serves: source -> stream -> records
    records: dict[str, dict[str, int]] = field(default_factory=dict)
    # ground truth of the canonical marts: mart -> "<channel or provider>|<business date>" -> count and amount
    canonical: dict[str, dict[str, dict]] = field(default_factory=dict)
    # every return line and the order line it takes back (possibly bought in another channel)
    return_links: list[ReturnLink] = field(default_factory=list)
    # reconciliation truth of every provider: what settlement matching must match, and must leave
    expected_matches: list[ExpectedMatch] = field(default_factory=list)
    expected_exceptions: list[ExpectedException] = field(default_factory=list)
    # what the sales journals book: the orders of marts.orders, and the payment events of marts.payments
    # that belong to an order (each channel appends them where it tallies what lands in those marts)
    sales_orders: list[BookedOrder] = field(default_factory=list)
    order_payments: list[OrderPayment] = field(default_factory=list)

    def __post_init__(self):
        if not self.customers:
            names = random.Random(f"{self.seed}:customers")
            firsts = ["Sam", "Alex", "Jordan", "Maria", "Wei", "Priya", "Omar", "Lena", "Kofi", "Ana"]
            lasts = ["Rivera", "Chen", "Okafor", "Smith", "Novak", "Haddad", "Kim", "Moreau", "Singh", "Berg"]
            cities = ["New York", "Chicago", "San Francisco", "Albany", "Boston", "Austin"]
            self.customers = [Customer(n, f"customer{n}@example.com", names.choice(firsts), names.choice(lasts),
                                       names.choice(cities)) for n in range(1, 5001)]

    def rng(self, name: str) -> random.Random:
        """A random stream of its own per simulation, so channels never shift each other's data."""
        return random.Random(f"{self.seed}:{name}")

    @property
    def business_days(self) -> list[date]:
        return [self.start_date + timedelta(days=offset) for offset in range(self.days)]

    @property
    def end_date(self) -> date:
        """The first day after the simulated window."""
        return self.start_date + timedelta(days=self.days)

    def location(self, code: str) -> Location:
        return next(loc for loc in self.locations if loc.code == code)

    def local(self, day: date, at: time, time_zone: str) -> datetime:
        return datetime.combine(day, at, tzinfo=ZoneInfo(time_zone))

    def tally(self, mart: str, group: str, business_date: date, amount: Decimal, count: int = 1) -> None:
        """Add to what a canonical mart must hold for one channel (or provider) and business date.

        Orders tally order_total, order_lines net_amount, payments gross_amount, returns refund_amount.
        """
        cell = self.canonical.setdefault(mart, {}).setdefault(f"{group}|{business_date.isoformat()}",
                                                              {"count": 0, "amount": Decimal("0")})
        cell["count"] += count
        cell["amount"] += amount

    def book_order(self, order: BookedOrder) -> None:
        """Remember an order as it lands in marts.orders, for the sales journals' truth."""
        self.sales_orders.append(order)

    def book_payment(self, provider: str, channel: str, order_id, event_type: str, gross_amount: Decimal,
                     business_date: date) -> None:
        """Remember a payment event of an order as it lands in marts.payments, for the sales journals' truth."""
        self.order_payments.append(OrderPayment(provider, channel, str(order_id), event_type, gross_amount,
                                                business_date))

    def expect_match(self, provider: str, settlement_line_id, counterpart_id, match_rule: str,
                     variance: Decimal = Decimal("0")) -> None:
        self.expected_matches.append(ExpectedMatch(provider, str(settlement_line_id), str(counterpart_id),
                                                   match_rule, variance))

    def expect_exception(self, provider: str, reason_code: str, reference_type: str, reference_id) -> None:
        self.expected_exceptions.append(ExpectedException(provider, reason_code, reference_type, str(reference_id)))

    def count(self, source: str, stream: str, records: int) -> None:
        """Add to the ground-truth record count of one source's stream."""
        streams = self.records.setdefault(source, {})
        streams[stream] = streams.get(stream, 0) + records
