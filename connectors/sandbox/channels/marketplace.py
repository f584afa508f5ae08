"""Bazaarly, the regional marketplace: its orders, fees, refunds and one settlement CSV per day.

About ten orders a business day (America/New_York), picked from the world's catalog and shipped
from the 3PL warehouse. Bazaarly is the marketplace facilitator: it collects and remits the sales
tax, so the seller's order lines carry none and the settlement never shows it. Per order it keeps
a commission (12 % of the items) and charges a shipping label; a share of orders is refunded one
or two days later (the commission on the refunded items comes back, the label does not), and now
and then it bills sponsored listings or credits an adjustment (a parcel lost in transit).

Each business day's activity is one settlement file in the format of the marketplace's mapping
(mappings/bazaarly.yaml), ending with a Disbursement row equal to the day's net, which reaches the
bank the next day (a Deposit for the bank simulation). Malformed rows are rendered at the world's
malformed_rate (a bad date, a bad amount or an unknown line type); they are counted as the
quarantine's ground truth, the well-formed rows as settlement_lines'.

Reconciliation truth (provider = the channel; counterparts are the orders the files' sale rows make):
an order's sale rows, and its refund rows, match the order by order_reference_amount when one row is
left, else many_to_one. At the world's anomaly_rate per business day the marketplace refunds an order
sold before the window (its sale is in no file): refund_without_order. A quarantined row leaves its
settlement short of the Disbursement (payout_total_mismatch), and a refund whose order lost every sale
row to quarantine names no known order (refund_without_order).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from connectors.marketplace.raw_tables import source_name
from connectors.marketplace.settlement_file import Mapping, load_mapping
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
)

MARKETPLACE = "bazaarly"
CHANNEL = source_name(MARKETPLACE)  # marketplace_bazaarly
TIME_ZONE = "America/New_York"
ORDERS_PER_DAY = (8, 12)
COMMISSION_RATE = Decimal("0.12")
SHIPPING_LABELS = (Decimal("4.25"), Decimal("5.10"), Decimal("6.75"))
REFUND_SHARE = 0.1
ADVERTISING_SHARE = 0.35  # of days with a sponsored listings charge
ADJUSTMENT_SHARE = 0.15  # of days with a lost-parcel credit
MALFORMED_KINDS = ("date", "amount", "line_type")


@dataclass(slots=True)
class SettlementRow:
    posted_date: date
    line_type: str  # ours: sale, refund, commission, shipping_fee, advertising_fee, adjustment, payout
    amount: Decimal  # signed, seller's side
    order_id: str | None = None
    sku: str | None = None
    quantity: int | None = None
    description: str | None = None
    malformed: str | None = None  # how the file renders it broken, if it does


@dataclass
class Settlement:
    settlement_id: str
    business_date: date
    rows: list[SettlementRow] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        return sum((r.amount for r in self.rows if r.line_type != "payout"), Decimal("0"))

    @property
    def payout(self) -> Decimal:
        return next(r.amount for r in self.rows if r.line_type == "payout")


@dataclass
class MarketplaceSandbox:
    marketplace: str
    mapping: Mapping
    settlements: list[Settlement] = field(default_factory=list)
    ground_truth: dict = field(default_factory=dict)


class _Simulation:
    def __init__(self, world: World, mapping: Mapping, orders_per_day: tuple[int, int]):
        self.world = world
        self.mapping = mapping
        self.orders_per_day = orders_per_day
        self.rng = world.rng(CHANNEL)
        self.malformed_rng = world.rng(f"{CHANNEL}:malformed")  # apart, so the rate never shifts the business
        self.anomaly_rng = world.rng(f"{CHANNEL}:anomalies")  # apart too, for the same reason
        self.anomalies: dict[str, int] = {"refund_of_order_before_window": 0}
        self.settlements = {day: Settlement(f"BZ-S-{day:%Y%m%d}", day) for day in world.business_days}
        self.order_no = 4_100_000 + self.rng.randrange(1000) * 100
        self.first_order_no = self.order_no + 1
        self.orders_before_window: set[str] = set()

    def run(self) -> MarketplaceSandbox:
        for day in self.world.business_days:
            for _ in range(self.rng.randint(*self.orders_per_day)):
                self._order(day)
            if self.anomaly_rng.random() < self.world.anomaly_rate:
                self._refund_of_order_before_window(day)
            self._fees_and_adjustments(day)
        sandbox = MarketplaceSandbox(MARKETPLACE, self.mapping, list(self.settlements.values()))
        for settlement in sandbox.settlements:
            self._close(settlement)
        self._count(sandbox)
        self._tally(sandbox)
        self._expect(sandbox)
        return sandbox

    def _order(self, day: date) -> None:
        world, rng = self.world, self.rng
        self.order_no += 1
        order_id = f"BZ{self.order_no}"
        at = world.local(day, time(rng.randint(7, 22), rng.randint(0, 59), rng.randint(0, 59)), TIME_ZONE)
        skus = rng.sample(world.catalog, rng.choice((1, 1, 1, 2, 2, 3)))
        lines = [SoldLine(f"{order_id}-{n}", sku.sku, rng.choice((1, 1, 1, 2)), sku.price, Decimal("0.00"),
                          Decimal("0.00")) for n, sku in enumerate(skus, 1)]
        world.orders.append(ChannelOrder(CHANNEL, order_id, order_id, WAREHOUSE.code,
                                         rng.choice(world.customers).customer_no, at, world.currency, lines))
        shipped = at + timedelta(hours=rng.randint(3, 20))
        settlement = self.settlements[day]
        for line in lines:
            world.stock_movements.append(StockMovement(line.sku, WAREHOUSE.code, "ship", -line.quantity, shipped,
                                                       order_id))
            settlement.rows.append(SettlementRow(day, "sale", cents(line.unit_price * line.quantity), order_id,
                                                 line.sku, line.quantity, f"Order {order_id} item {line.sku}"))
        items = sum((cents(line.unit_price * line.quantity) for line in lines), Decimal("0"))
        settlement.rows.append(SettlementRow(day, "commission", -cents(items * COMMISSION_RATE), order_id,
                                             description=f"Commission {COMMISSION_RATE:%} on order {order_id}"))
        settlement.rows.append(SettlementRow(day, "shipping_fee", -rng.choice(SHIPPING_LABELS), order_id,
                                             description=f"Shipping label for order {order_id}"))
        if rng.random() < REFUND_SHARE:
            self._refund(order_id, lines, day + timedelta(days=rng.randint(1, 2)), shipped)

    def _refund(self, order_id: str, lines: list[SoldLine], day: date, shipped: datetime) -> None:
        settlement = self.settlements.get(day)
        if settlement is None:
            return  # refunded after the window: not in any file yet
        refunded = lines if len(lines) == 1 or self.rng.random() < 0.5 else [self.rng.choice(lines)]
        total = Decimal("0")
        for line in refunded:
            amount = cents(line.unit_price * line.quantity)
            total += amount
            settlement.rows.append(SettlementRow(day, "refund", -amount, order_id, line.sku, line.quantity,
                                                 f"Refund order {order_id} item {line.sku}"))
            returned = self.world.local(day, time(9, 0), TIME_ZONE)
            self.world.stock_movements.append(StockMovement(line.sku, WAREHOUSE.code, "return_receipt",
                                                            line.quantity, max(returned, shipped), order_id))
        settlement.rows.append(SettlementRow(day, "commission", cents(total * COMMISSION_RATE), order_id,
                                             description=f"Commission refund on order {order_id}"))

    def _refund_of_order_before_window(self, day: date) -> None:
        """A refund (and the commission given back) of an order sold before the window, so in no file.

        Refunded without asking the item back, as marketplaces often do for cheap items: no stock comes
        back to the warehouse, which keeps the WMS simulation's streams as they are.
        """
        rng = self.anomaly_rng
        while True:
            order_id = f"BZ{self.first_order_no - rng.randint(1, 5000)}"
            if order_id not in self.orders_before_window:
                break
        self.orders_before_window.add(order_id)
        self.anomalies["refund_of_order_before_window"] += 1
        settlement = self.settlements[day]
        total = Decimal("0")
        for sku in rng.sample(self.world.catalog, rng.choice((1, 1, 2))):
            amount = cents(sku.price)
            total += amount
            settlement.rows.append(SettlementRow(day, "refund", -amount, order_id, sku.sku, 1,
                                                 f"Refund order {order_id} item {sku.sku}"))
        settlement.rows.append(SettlementRow(day, "commission", cents(total * COMMISSION_RATE), order_id,
                                             description=f"Commission refund on order {order_id}"))

    def _fees_and_adjustments(self, day: date) -> None:
        settlement, rng = self.settlements[day], self.rng
        if rng.random() < ADVERTISING_SHARE:
            amount = Decimal(rng.randint(1000, 4500)) / 100
            settlement.rows.append(SettlementRow(day, "advertising_fee", -amount,
                                                 description=f"Sponsored listings {day:%Y-%m-%d}"))
        if rng.random() < ADJUSTMENT_SHARE:
            amount = Decimal(rng.randint(1500, 9000)) / 100
            settlement.rows.append(SettlementRow(day, "adjustment", amount,
                                                 description="Reimbursement: parcel lost in transit"))

    def _close(self, settlement: Settlement) -> None:
        """The Disbursement row, its deposit the next day, and which rows the file renders broken."""
        for row in settlement.rows:
            if self.malformed_rng.random() < self.world.malformed_rate:
                row.malformed = self.malformed_rng.choice(MALFORMED_KINDS)
        net = settlement.net
        settlement.rows.append(SettlementRow(settlement.business_date, "payout", net,
                                             description=f"Disbursement of settlement {settlement.settlement_id}"))
        if net:
            self.world.deposits.append(Deposit(
                provider=CHANNEL, payout_id=settlement.settlement_id, amount=net, currency=self.world.currency,
                value_date=settlement.business_date + timedelta(days=1),
                bank_reference=f"BAZAARLY INC SETTLEMENT {settlement.settlement_id}"))

    def _count(self, sandbox: MarketplaceSandbox) -> None:
        rows = [row for s in sandbox.settlements for row in s.rows]
        bad = sum(1 for row in rows if row.malformed)
        self.world.count(CHANNEL, "settlement_lines", len(rows) - bad)
        self.world.count(CHANNEL, "_quarantine", bad)
        sandbox.ground_truth = {
            "settlements": len(sandbox.settlements),
            "net_by_settlement": {s.settlement_id: format(s.net, "f") for s in sandbox.settlements},
            "malformed_rows": bad,
            "anomalies": dict(self.anomalies),
        }


    def _tally(self, sandbox: MarketplaceSandbox) -> None:
        """What int_marketplace__* must hold, counted the way the models count the files' rows that parse.

        A malformed row is quarantined at load, so it reaches no order, line, payment or return. Orders and
        lines come from the sale rows (an order per order id, a line per order and SKU, net = amount, dated
        by the posting date); payments are, per settlement, one sale and one refund event per order (gross =
        its sale or refund rows; the commission and label rows are fees: a positive one goes with the
        refund), one event per row about no order (advertising gross 0, adjustment its amount, the
        Disbursement -amount); returns are the refund rows (refund = -amount), each linked to order:sku.
        """
        world = self.world
        orders: dict[str, dict] = {}
        events: dict[tuple, dict] = {}
        for settlement in sandbox.settlements:
            for index, row in enumerate(settlement.rows):
                if row.malformed:
                    continue
                line_number = index + 2  # the header is line 1
                if row.line_type == "sale":
                    order = orders.setdefault(row.order_id, {"date": row.posted_date, "amount": Decimal("0")})
                    order["amount"] += row.amount
                    world.tally("order_lines", CHANNEL, order["date"], row.amount)
                if row.line_type == "refund":
                    world.tally("returns", CHANNEL, row.posted_date, -row.amount)
                    world.return_links.append(ReturnLink(CHANNEL, f"{settlement.settlement_id}:{line_number}", CHANNEL,
                                                         row.order_id, f"{row.order_id}:{row.sku}"))
                side = None
                if row.order_id and row.line_type in ("sale", "refund", "commission", "shipping_fee"):
                    side = row.line_type if row.line_type in ("sale", "refund") else (
                        "refund" if row.amount > 0 else "sale")
                    key = (settlement.settlement_id, side, row.order_id)
                    gross = row.amount if row.line_type in ("sale", "refund") else Decimal("0")
                else:
                    key = (settlement.settlement_id, line_number)
                    gross = {"payout": -row.amount, "adjustment": row.amount}.get(row.line_type, Decimal("0"))
                event = events.setdefault(key, {"date": row.posted_date, "gross": Decimal("0"),
                                                "order_id": row.order_id if side else None, "event_type": side})
                event["gross"] += gross
        for order_id, order in orders.items():
            world.tally("orders", CHANNEL, order["date"], order["amount"])
            # no discount, shipping or tax reaches the seller: the marketplace charges and remits them
            world.book_order(BookedOrder(CHANNEL, order_id, WAREHOUSE.code, order["date"], world.currency,
                                         gross_sales=order["amount"], discount_total=Decimal("0"),
                                         shipping_total=Decimal("0"), tax_total=Decimal("0")))
        for event in events.values():
            world.tally("payments", CHANNEL, event["date"], event["gross"])
            if event["order_id"]:
                world.book_payment(CHANNEL, CHANNEL, event["order_id"], event["event_type"], event["gross"],
                                   event["date"])

    def _expect(self, sandbox: MarketplaceSandbox) -> None:
        """What reconciling the files that parse must find (provider = the channel, counterpart = the order).

        Orders exist for the sale rows that parse; a refund matches its order's refunded total. One row of
        an order and kind left -> order_reference_amount, several -> many_to_one (their sum is the order's
        total, or its refunded total, by construction).
        """
        world = self.world
        sold: dict[str, list[str]] = {}
        refunded: dict[str, list[str]] = {}
        for settlement in sandbox.settlements:
            quarantined = Decimal("0")
            for index, row in enumerate(settlement.rows):
                if row.malformed:
                    quarantined += row.amount
                    continue
                line_id = settlement_line_id(settlement, index)
                if row.line_type == "sale":
                    sold.setdefault(row.order_id, []).append(line_id)
                elif row.line_type == "refund":
                    refunded.setdefault(row.order_id, []).append(line_id)
            if quarantined:
                world.expect_exception(CHANNEL, "payout_total_mismatch", "payout", settlement.settlement_id)
        for order_id, lines in [*sold.items(), *refunded.items()]:
            if order_id not in sold:
                # sold before the window, or its every sale row quarantined: no order to refund
                for line_id in lines:
                    world.expect_exception(CHANNEL, "refund_without_order", "settlement_line", line_id)
                continue
            rule = "order_reference_amount" if len(lines) == 1 else "many_to_one"
            for line_id in lines:
                world.expect_match(CHANNEL, line_id, order_id, rule)


def settlement_line_id(settlement: Settlement, index: int) -> str:
    """The staging key of a row: marketplace:settlement:file line (the header is line 1)."""
    return f"{MARKETPLACE}:{settlement.settlement_id}:{index + 2}"


def lost_order_lines(sandbox: MarketplaceSandbox) -> frozenset[tuple[str, str]]:
    """(order id, sku) of the sale rows rendered malformed: quarantined on load, the retailer never sees them."""
    return frozenset((row.order_id, row.sku) for settlement in sandbox.settlements for row in settlement.rows
                     if row.line_type == "sale" and row.malformed)


def simulate(world: World, mapping: Mapping | str = MARKETPLACE, *,
             orders_per_day: tuple[int, int] = ORDERS_PER_DAY) -> MarketplaceSandbox:
    """Bazaarly's business over the world's window (orders, stock movements and deposits go to the world).

    Each business day's order count is drawn from the range orders_per_day (both ends included).
    """
    return _Simulation(world, mapping if isinstance(mapping, Mapping) else load_mapping(mapping),
                       orders_per_day).run()


# ---------------------------------------------------------------------------------------------
# Files in the marketplace's own format


def _number(value: Decimal, mapping: Mapping) -> str:
    numbers = mapping.numbers
    whole, _, fraction = format(abs(cents(value)), "f").partition(".")
    if numbers.thousands_separator:
        groups = []
        while len(whole) > 3:
            whole, groups = whole[:-3], [whole[-3:], *groups]
        whole = numbers.thousands_separator.join([whole, *groups])
    body = f"{whole}{numbers.decimal_separator}{fraction}"
    if value >= 0:
        return body
    return {"leading_minus": f"-{body}", "trailing_minus": f"{body}-", "parentheses": f"({body})"}[numbers.negative]


def _cells(row: SettlementRow, settlement: Settlement, mapping: Mapping) -> dict[str, str]:
    """A row as the marketplace writes it: canonical field -> cell text."""
    label = next(theirs for theirs, ours in mapping.line_types.items() if ours == row.line_type)
    cells = {"settlement_id": settlement.settlement_id, "posted_date": row.posted_date.strftime(mapping.date_format),
             "order_id": row.order_id or "", "sku": row.sku or "", "line_type": label,
             "quantity": "" if row.quantity is None else str(row.quantity), "amount": _number(row.amount, mapping),
             "fee": "", "currency": mapping.currency or "USD", "description": row.description or ""}
    if mapping.columns.posted_at:
        cells["posted_at"] = datetime.combine(row.posted_date, time(12)).strftime(mapping.datetime_format)
    if mapping.columns.debit:
        cells["debit"] = _number(-row.amount, mapping) if row.amount < 0 else ""
        cells["credit"] = _number(row.amount, mapping) if row.amount >= 0 else ""
    if row.malformed == "date":
        cells["posted_date"] = f"{row.posted_date:%Y}-13-{row.posted_date:%d}"
    elif row.malformed == "amount":
        cells["amount"] = cells["amount"].replace(mapping.numbers.decimal_separator, "~") + "x"
    elif row.malformed == "line_type":
        cells["line_type"] = "Misc Charge (unmapped)"
    return cells


def settlement_csv(settlement: Settlement, mapping: Mapping) -> bytes:
    columns = mapping.file_columns
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=mapping.delimiter, lineterminator="\r\n")
    writer.writerow(columns.values())
    for row in settlement.rows:
        cells = _cells(row, settlement, mapping)
        writer.writerow(cells.get(field, "") for field in columns)
    return buffer.getvalue().encode(mapping.encoding)


def drop_files(sandbox: MarketplaceSandbox, inbox_root: Path) -> list[Path]:
    """One settlement file per business day into <inbox_root>/marketplace_<name>/."""
    folder = Path(inbox_root) / source_name(sandbox.marketplace)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for settlement in sandbox.settlements:
        path = folder / f"{sandbox.marketplace}_settlement_{settlement.business_date:%Y%m%d}.csv"
        path.write_bytes(settlement_csv(settlement, sandbox.mapping))
        paths.append(path)
    return paths
