"""Adyen, the PSP of the stores' card terminals: one Settlement details report per daily batch.

From world.card_payments with psp "adyen" (store card tenders and in-store card refunds; the
merchant reference is the Square payment id, or the Square refund id of a refund) this builds what
Adyen settles for the merchant account, batch by batch, and renders each batch as Adyen's
"Settlement details report" CSV in the 2025 header generation (49 columns, the layout
connectors/adyen/settlement_details.py reads):

- batches close daily at 21:00 America/New_York (the US01 entity's time zone, which is also the
  report's TimeZone column, labelled EST/EDT as the row's instant falls). A payment belongs to the
  batch of the first cut-off after it: a San Francisco sale at 18:30 local misses that day's batch.
  Payments after the last day's cut-off are not settled within the window: they are kept in
  `unsettled` and appear in no file;
- a `Settled` row per capture: Gross Credit, and Interchange++ fees (Commission a fixed 0.13,
  Markup 0.60%, Scheme Fees 0.13%, Interchange by card variant) deducted to give Net Credit;
- a `Refunded` row per refund: Gross Debit = Net Debit, no fees (as Adyen reports card refunds). Its
  Psp Reference is the refunded payment's (a refund made without one has a reference of its own);
- now and then a `Fee` row (terminal rental) charged against the batch;
- the `MerchantPayout` row paying out the batch net (Net Debit), credited to the bank the next day
  (world.deposits, payout id "<merchant account> batch <n>"). A batch netting to zero or less pays
  nothing (Adyen carries the balance); the sandbox keeps batches positive with store volumes.

Anomalies, drawn at world.anomaly_rate per settled store sale on a stream of their own (`anomalies`
counts them), each one what finance must see or what matching must cope with:
- amount_mismatch: the Settled amount is a few cents off the terminal's payment;
- duplicate_settlement: the sale is settled again in a later batch (Adyen pays it twice);
- chargeback: a later batch debits the sale back (Chargeback row, with Adyen's chargeback fee);
- keyed_entry: a sale keyed by hand on the terminal: no PSP, merchant or order reference, so only its
  amount and date can match it. Only a sale whose amount no other card payment comes near is keyed
  (so the match is certain), or, as keyed_entry_pair, two same-amount sales of one store-day and
  nothing near them: a person must choose (ambiguous_match);
- unrecorded_sale: a sale keyed on the terminal that nobody rang up in the POS: a Settled row without
  references whose amount no card payment comes near (unmatched_settlement_line).
They are injected only into payments of a store the world knows, whose business date the truth needs.

Batch numbers count days since the merchant account opened (2024-01-01), so a batch keeps its
number whatever window is simulated. At world.malformed_rate a transaction or fee row is written
malformed (an amount with a currency sign, or a day-first date): the parser quarantines it, and
its neighbours still load. Ground truth: world.records["adyen"]["settlement_details"] counts the
well-formed rows, ["_quarantine"] the malformed ones. The canonical payment events of these card
payments are the stores' Square tenders and refunds (provider adyen, provider_reference the PSP
reference): the POS simulation tallies them where it creates them (world.tally "payments"); Adyen's
settlement lines feed settlement matching, not the payments mart, so nothing is tallied here.
Reconciliation truth (world.expect_match / expect_exception), from what each row is: every
well-formed line naming a payment matches it by exact_reference (a later line naming the same one is
a duplicate_settlement_line), a keyed line by amount_tolerance (or is an ambiguous_match), a
chargeback or unrecorded sale is an exception; a batch with a quarantined row no longer adds up to
its payout (payout_total_mismatch), and a sale left without a line is captured_not_settled once
its business date is SETTLE_WITHIN_DAYS before the latest payout date.
"""
from __future__ import annotations

import csv
import io
import random
import string
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.sandbox.world import CENT, CardPayment, Deposit, World, cents, money

PSP = "adyen"
INBOX_FOLDER = "adyen_settlements"
COMPANY_ACCOUNT = "OmniReconRetail"
MERCHANT_ACCOUNT = "OmniReconRetailUS_POS"
REPORT_TIME_ZONE = "America/New_York"  # the US01 entity's; Adyen reports in the merchant account's zone
BATCH_CUTOFF = time(21, 0)
FIRST_BATCH_DAY = date(2024, 1, 1)
PAYOUT_DELAY_DAYS = 1
FEE_ROW_RATE = 0.25
TERMINAL_FEES = (Decimal("19.00"), Decimal("38.00"), Decimal("57.00"))
COMMISSION = Decimal("0.13")
MARKUP_RATE = Decimal("0.0060")
SCHEME_FEE_RATE = Decimal("0.0013")
CHARGEBACK_FEE = Decimal("15.00")  # Adyen's dispute fee, booked in the Chargeback row's Commission
# card variant -> (payment method, interchange rate, interchange fixed part)
CARD_VARIANTS = {
    "visadebit": ("visa", Decimal("0.0005"), Decimal("0.22")),
    "visacredit": ("visa", Decimal("0.0180"), Decimal("0.10")),
    "mcdebit": ("mc", Decimal("0.0005"), Decimal("0.22")),
    "mccredit": ("mc", Decimal("0.0190"), Decimal("0.10")),
    "amex": ("amex", Decimal("0.0250"), Decimal("0.00")),
}
ANOMALIES = ("amount_mismatch", "duplicate_settlement", "chargeback", "keyed_entry", "unrecorded_sale")
# Adyen's row of seeds/settlement_providers.csv, which decides what matching can and must find.
AMOUNT_TOLERANCE = Decimal("0.05")
SETTLE_WITHIN_DAYS = 2  # a sale is in the payout of the next day's batch at the latest
# A keyed line is matched on amount within 3 days of its posting, which is up to 2 days after the sale:
# card payments a week apart can never compete for it.
KEYED_ISOLATION = timedelta(days=7)
# Draws of an unrecorded sale's amount before giving up on the usual range (at ordinary volumes the first
# draw or two succeeds, so worlds that ever finished drawing are unchanged).
UNRECORDED_AMOUNT_DRAWS = 1_000

# The 2025 layout, in Adyen's column order.
HEADER = (
    "Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
    "Creation Date", "TimeZone", "Type", "Modification Reference", "Gross Currency", "Gross Debit (GC)",
    "Gross Credit (GC)", "Exchange Rate", "Net Currency", "Net Debit (NC)", "Net Credit (NC)", "Commission (NC)",
    "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)", "Payment Method Variant",
    "Modification Merchant Reference", "Batch Number", "Reserved4", "Reserved5", "Reserved6", "Reserved7",
    "Reserved8", "Reserved9", "Reserved10", "Booking Date", "Booking Date TimeZone", "Metadata",
    "Balance Currency", "Net Debit (BC)", "Net Credit (BC)", "Payment Fees (NC)", "DCC Markup (NC)",
    "Funds Destination", "Balance Platform Debit", "Balance Platform Credit", "Shopper Country",
    "Clearing Network", "Merchant Order Reference", "Dispute Reference", "ARN", "Settlement Flow",
    "Authorisation Code", "Gross Fees (NC)",
)
_REFERENCE_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(slots=True)
class SettlementRow:
    cells: dict[str, str]  # the row as Adyen means it (every value well-formed)
    net: Decimal  # signed, credit - debit: positive = money to the merchant
    malformed: dict[str, str] | None = None  # cells overridden in the file, when the row is rendered broken
    # What the simulation knows of the row: sale, keyed_sale, unrecorded_sale, refund, chargeback, fee, payout;
    # the card payment it settles or charges back; its signed gross.
    role: str = "payout"
    payment: CardPayment | None = None
    gross: Decimal = Decimal("0")

    @property
    def rendered(self) -> dict[str, str]:
        return {**self.cells, **(self.malformed or {})}


@dataclass
class AdyenBatch:
    batch_number: int
    business_day: date
    closed_at: datetime
    rows: list[SettlementRow] = field(default_factory=list)  # the MerchantPayout row last
    payout: Decimal | None = None

    @property
    def file_name(self) -> str:
        return f"settlement_detail_report_batch_{self.batch_number}.csv"

    @property
    def payout_id(self) -> str:
        return f"{MERCHANT_ACCOUNT} batch {self.batch_number}"


@dataclass
class AdyenSandbox:
    merchant_account: str
    batches: list[AdyenBatch] = field(default_factory=list)
    unsettled: list[CardPayment] = field(default_factory=list)  # after the last batch's cut-off
    anomalies: Counter = field(default_factory=Counter)  # injected anomalies by kind

    def render(self, batch: AdyenBatch) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for row in batch.rows:
            rendered = row.rendered
            writer.writerow([rendered.get(column, "") for column in HEADER])
        return out.getvalue().encode("utf-8")


class _CapturesNear:
    """The captures filed by whole cents of their amount: finding those that amount matching could confuse with
    an amount looks at the few cents within the tolerance, not at every capture (which made the anomalies
    quadratic in the volume). Same answer, in the same order, as filtering every capture."""

    def __init__(self, captures: list[CardPayment]):
        self._by_cent: dict[int, list[tuple[int, CardPayment]]] = defaultdict(list)
        for order, payment in enumerate(captures):
            self._by_cent[_whole_cents(payment.amount)].append((order, payment))
        self.largest = max((payment.amount for payment in captures), default=Decimal("0"))

    def near(self, amount: Decimal, at: datetime) -> list[CardPayment]:
        """Captures within AMOUNT_TOLERANCE of the amount and KEYED_ISOLATION of the time, in capture order."""
        return [payment for _, payment in sorted(self._within(amount, at), key=lambda item: item[0])]

    def any_near(self, amount: Decimal, at: datetime) -> bool:
        """Whether any capture is near: stops at the first. At 300,000 orders a day an unrecorded sale draws up to
        UNRECORDED_AMOUNT_DRAWS amounts, nearly all taken; listing and sorting each one's ~300 neighbours made
        the sandbox's generation quadratic in the volume (still in Adyen after 19 minutes)."""
        return next(self._within(amount, at), None) is not None

    def _within(self, amount: Decimal, at: datetime) -> Iterator[tuple[int, CardPayment]]:
        for cent in range(_whole_cents(amount - AMOUNT_TOLERANCE), _whole_cents(amount + AMOUNT_TOLERANCE) + 1):
            for order, payment in self._by_cent.get(cent, ()):
                if abs(payment.amount - amount) <= AMOUNT_TOLERANCE and abs(payment.at - at) < KEYED_ISOLATION:
                    yield order, payment


def _whole_cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(rounding=ROUND_FLOOR))


def _stamp(moment: datetime) -> tuple[str, str]:
    """Creation/booking date and its zone label as Adyen writes them: local time, EST/EDT."""
    local = moment.astimezone(ZoneInfo(REPORT_TIME_ZONE))
    return local.strftime("%Y-%m-%d %H:%M:%S"), local.tzname()


class _Simulation:
    def __init__(self, world: World):
        self.world = world
        self.rng = world.rng(PSP)
        self.anomaly_rng = world.rng(f"{PSP}:anomalies")  # which anomalies, and their rows
        self.zone = ZoneInfo(REPORT_TIME_ZONE)
        self.sandbox = AdyenSandbox(MERCHANT_ACCOUNT)
        self.captures = {p.psp_reference: p for p in world.card_payments if p.psp == PSP and p.kind == "capture"}
        self.captures_near = _CapturesNear(list(self.captures.values()))
        # the store, hence the business date, of each POS order's payments
        self.store_zones = {o.order_id: ZoneInfo(world.location(o.location).time_zone)
                            for o in world.orders if o.channel == "pos"}
        self.fates: dict[str, tuple[str, date | None]] = {}  # capture's PSP reference -> anomaly, later batch day
        self.ambiguous: set[str] = set()  # PSP references of keyed sales a person must tell apart
        self.later_rows: dict[date, list[tuple[str, SettlementRow]]] = {}  # batch day -> (anomaly, original row)

    def reference(self, rng: random.Random | None = None) -> str:
        rng = rng or self.rng
        return "".join(rng.choice(_REFERENCE_ALPHABET) for _ in range(16))

    def batch_day(self, at: datetime) -> date:
        local = at.astimezone(self.zone)
        return local.date() + timedelta(days=1) if local.time() >= BATCH_CUTOFF else local.date()

    def business_date(self, payment: CardPayment) -> date | None:
        """The payment's date in its store's time zone, as marts.payments dates it; None for an unknown store."""
        zone = self.store_zones.get(payment.order_id)
        return payment.at.astimezone(zone).date() if zone else None

    def run(self) -> AdyenSandbox:
        for table in ("settlement_details", "_quarantine"):  # known even when nothing settles
            self.world.count(PSP, table, 0)
        payments = sorted((p for p in self.world.card_payments if p.psp == PSP),
                          key=lambda p: (p.at, p.kind, p.psp_reference, p.merchant_reference))
        by_day: dict[date, list[CardPayment]] = {}
        for payment in payments:
            day = self.batch_day(payment.at)
            if day >= self.world.end_date:
                self.sandbox.unsettled.append(payment)
            elif day >= self.world.start_date:
                by_day.setdefault(day, []).append(payment)
        self.plan_anomalies(by_day)
        for day in self.world.business_days:
            if by_day.get(day):
                self.batch(day, by_day[day])
        self.record_truth()
        return self.sandbox

    # ---- anomalies ---------------------------------------------------------------------------
    def plan_anomalies(self, by_day: dict[date, list[CardPayment]]) -> None:
        days = sorted(by_day)
        settling = {p.psp_reference for day in days for p in by_day[day] if p.kind == "capture"}
        for day in days:
            for payment in by_day[day]:
                if payment.kind != "capture" or payment.psp_reference in self.fates \
                        or self.business_date(payment) is None:
                    continue
                if self.anomaly_rng.random() >= self.world.anomaly_rate:
                    continue
                anomaly = self.anomaly_rng.choice(ANOMALIES)
                later_day = None
                if anomaly in ("duplicate_settlement", "chargeback"):
                    later = [d for d in days if d > day]
                    if not later:  # nothing settles after this batch within the window
                        continue
                    later_day = self.anomaly_rng.choice(later)
                elif anomaly == "keyed_entry":
                    near = self.confusable_with(payment)
                    if near:
                        twin = near[0]
                        # A keyed sale that could be taken for another payment is only injected where the
                        # outcome is certain: two same-amount sales of one store-day, nothing else near.
                        if len(near) > 1 or twin.psp_reference not in settling or twin.psp_reference in self.fates \
                                or twin.amount != payment.amount \
                                or self.business_date(twin) != self.business_date(payment) \
                                or any(other is not payment for other in self.confusable_with(twin)):
                            continue
                        self.fates[twin.psp_reference] = (anomaly, None)
                        self.ambiguous |= {payment.psp_reference, twin.psp_reference}
                        anomaly = "keyed_entry_pair"
                self.fates[payment.psp_reference] = ("keyed_entry" if anomaly == "keyed_entry_pair" else anomaly,
                                                     later_day)
                self.sandbox.anomalies[anomaly] += 1

    def confusable_with(self, payment: CardPayment) -> list[CardPayment]:
        """Other card sales that amount matching could take for this one."""
        return [other for other in self.captures_near.near(payment.amount, payment.at) if other is not payment]

    # ---- batches -----------------------------------------------------------------------------
    def base(self, moment: datetime, kind: str, booked_at: datetime, batch_number: int) -> dict[str, str]:
        created, zone = _stamp(moment)
        booked, booked_zone = _stamp(booked_at)
        return {"Company Account": COMPANY_ACCOUNT, "Merchant Account": MERCHANT_ACCOUNT, "Creation Date": created,
                "TimeZone": zone, "Type": kind, "Batch Number": str(batch_number), "Booking Date": booked,
                "Booking Date TimeZone": booked_zone}

    def batch(self, day: date, payments: list[CardPayment]) -> None:
        number = (day - FIRST_BATCH_DAY).days + 1
        closed_at = datetime.combine(day, BATCH_CUTOFF, tzinfo=self.zone)
        batch = AdyenBatch(number, day, closed_at)
        for payment in payments:
            if payment.kind == "capture":
                anomaly, later_day = self.fates.get(payment.psp_reference, (None, None))
                row = self.settled(payment, closed_at, number, anomaly)
                batch.rows.append(row)
                if later_day is not None:
                    self.later_rows.setdefault(later_day, []).append((anomaly, row))
                if anomaly == "unrecorded_sale":
                    batch.rows.append(self.unrecorded(payment, closed_at, number))
            elif payment.kind == "refund":
                batch.rows.append(self.refunded(payment, closed_at, number))
            else:
                raise ValueError(f"unknown card payment kind {payment.kind!r}")
        for anomaly, original in self.later_rows.get(day, []):
            batch.rows.append(self.settled_again(original, closed_at, number) if anomaly == "duplicate_settlement"
                              else self.chargeback(original, closed_at, number))
        if self.rng.random() < FEE_ROW_RATE:
            fee = self.rng.choice(TERMINAL_FEES)
            cells = self.base(closed_at - timedelta(minutes=5), "Fee", closed_at, number)
            cells.update({"Modification Reference": f"Terminal rental {day:%B %Y}", "Net Currency": self.currency,
                          "Net Debit (NC)": money(fee)})
            batch.rows.append(SettlementRow(cells, -fee, role="fee"))
        for row in batch.rows:
            self.maybe_malform(row)
        net = sum((row.net for row in batch.rows), Decimal("0"))
        good = sum(1 for row in batch.rows if row.malformed is None)
        if net > 0:
            batch.payout = net
            payout_ref = f"TX{self.rng.randrange(10**9, 10**10)}XT"
            cells = self.base(closed_at, "MerchantPayout", closed_at, number)
            cells.update({"Modification Reference": f"{payout_ref} batch {number}, {MERCHANT_ACCOUNT} batch {number}, "
                                                    f"{MERCHANT_ACCOUNT}",
                          "Net Currency": self.currency, "Net Debit (NC)": money(net)})
            batch.rows.append(SettlementRow(cells, -net, role="payout"))
            good += 1
            self.world.deposits.append(Deposit(
                provider=PSP, payout_id=batch.payout_id, amount=net, currency=self.currency,
                value_date=day + timedelta(days=PAYOUT_DELAY_DAYS),
                bank_reference=f"ADYEN PAYOUT {payout_ref} BATCH {number} {MERCHANT_ACCOUNT}"))
        self.world.count(PSP, "settlement_details", good)
        self.world.count(PSP, "_quarantine", len(batch.rows) - good)
        self.sandbox.batches.append(batch)

    @property
    def currency(self) -> str:
        return self.world.currency

    def sale_row(self, at: datetime, booked_at: datetime, number: int, gross: Decimal, currency: str,
                 references: dict[str, str], rng: random.Random) -> tuple[dict[str, str], Decimal]:
        """A Settled row's cells and net: the sale's gross less Adyen's Interchange++ fees."""
        variant = rng.choice(sorted(CARD_VARIANTS))
        method, rate, fixed = CARD_VARIANTS[variant]
        fees = {"Commission (NC)": COMMISSION, "Markup (NC)": cents(gross * MARKUP_RATE),
                "Scheme Fees (NC)": cents(gross * SCHEME_FEE_RATE), "Interchange (NC)": cents(gross * rate) + fixed}
        net = gross - sum(fees.values(), Decimal("0"))
        cells = self.base(at, "Settled", booked_at, number)
        cells.update({
            "Psp Reference": references.get("psp", ""), "Merchant Reference": references.get("merchant", ""),
            "Payment Method": method, "Payment Method Variant": variant, "Modification Reference": self.reference(rng),
            "Modification Merchant Reference": references.get("merchant", ""), "Gross Currency": currency,
            "Gross Credit (GC)": money(gross), "Exchange Rate": "1", "Net Currency": currency,
            "Net Credit (NC)" if net >= 0 else "Net Debit (NC)": money(abs(net)),
            **{column: money(fee) for column, fee in fees.items()},
            "Shopper Country": "US", "Merchant Order Reference": references.get("order", ""),
            "Settlement Flow": "US_Adyen", "Authorisation Code": f"{rng.randrange(10**6):06d}",
        })
        return cells, net

    def settled(self, payment: CardPayment, booked_at: datetime, number: int, anomaly: str | None) -> SettlementRow:
        gross = cents(payment.amount)
        if anomaly == "amount_mismatch":
            gross += self.anomaly_rng.choice((-1, 1)) * self.anomaly_rng.randint(1, 9) * CENT
        if anomaly == "keyed_entry":  # keyed on the terminal: Adyen never learnt the POS's references
            references, role = {}, "keyed_sale"
        else:
            references = {"psp": payment.psp_reference, "merchant": payment.merchant_reference,
                          "order": str(payment.order_id)}
            role = "sale"
        cells, net = self.sale_row(payment.at, booked_at, number, gross, payment.currency, references, self.rng)
        return SettlementRow(cells, net, role=role, payment=payment, gross=gross)

    def settled_again(self, original: SettlementRow, booked_at: datetime, number: int) -> SettlementRow:
        """The same capture settled once more, booked in a later batch."""
        booked, booked_zone = _stamp(booked_at)
        cells = {**original.cells, "Batch Number": str(number), "Booking Date": booked,
                 "Booking Date TimeZone": booked_zone}
        return SettlementRow(cells, original.net, role=original.role, payment=original.payment, gross=original.gross)

    def chargeback(self, original: SettlementRow, booked_at: datetime, number: int) -> SettlementRow:
        """The cardholder disputes the sale: its amount and Adyen's dispute fee are debited."""
        payment, rng = original.payment, self.anomaly_rng
        amount = cents(payment.amount)
        cells = self.base(booked_at - timedelta(minutes=rng.randrange(30, 600)), "Chargeback", booked_at, number)
        cells.update({
            "Psp Reference": payment.psp_reference, "Merchant Reference": payment.merchant_reference,
            "Payment Method": original.cells["Payment Method"],
            "Payment Method Variant": original.cells["Payment Method Variant"],
            "Modification Reference": self.reference(rng), "Gross Currency": payment.currency,
            "Gross Debit (GC)": money(amount), "Exchange Rate": "1", "Net Currency": payment.currency,
            "Net Debit (NC)": money(amount + CHARGEBACK_FEE), "Commission (NC)": money(CHARGEBACK_FEE),
            "Shopper Country": "US", "Merchant Order Reference": str(payment.order_id),
            "Dispute Reference": self.reference(rng), "Settlement Flow": "US_Adyen",
        })
        return SettlementRow(cells, -(amount + CHARGEBACK_FEE), role="chargeback", payment=payment, gross=-amount)

    def unrecorded(self, beside: CardPayment, booked_at: datetime, number: int) -> SettlementRow:
        """A sale keyed on the terminal beside a POS sale, that nobody rang up in the POS.

        Like every keyed sale it comes without references; its amount is one no card payment comes near,
        so nothing can match it.
        """
        rng = self.anomaly_rng
        at = beside.at - timedelta(minutes=rng.randrange(1, 60))
        for _ in range(UNRECORDED_AMOUNT_DRAWS):
            gross = Decimal(rng.randrange(1_000, 20_000)) / 100
            if not self.captures_near.any_near(gross, at):
                break
        else:
            # At peak-season volume the stores' sales come near almost every amount of the range (96% of them
            # at 50k orders a day): key one above every sale instead of drawing for ever.
            gross = self.captures_near.largest + Decimal(rng.randrange(1_000, 20_000)) / 100
        cells, net = self.sale_row(at, booked_at, number, gross, beside.currency, {}, rng)
        return SettlementRow(cells, net, role="unrecorded_sale", gross=gross)

    def refunded(self, payment: CardPayment, booked_at: datetime, number: int) -> SettlementRow:
        variant = self.rng.choice(sorted(CARD_VARIANTS))
        amount = cents(payment.amount)
        # A refund of a payment belongs to the payment's order; one made without a payment, to its own ticket.
        refunded = self.captures.get(payment.psp_reference)
        order_id = refunded.order_id if refunded else payment.order_id
        cells = self.base(payment.at, "Refunded", booked_at, number)
        cells.update({
            "Psp Reference": payment.psp_reference, "Merchant Reference": payment.merchant_reference,
            "Payment Method": CARD_VARIANTS[variant][0], "Payment Method Variant": variant,
            "Modification Reference": self.reference(), "Modification Merchant Reference": payment.merchant_reference,
            "Gross Currency": payment.currency, "Gross Debit (GC)": money(amount), "Exchange Rate": "1",
            "Net Currency": payment.currency, "Net Debit (NC)": money(amount), "Shopper Country": "US",
            "Merchant Order Reference": str(order_id), "Settlement Flow": "US_Adyen",
        })
        return SettlementRow(cells, -amount, role="refund", payment=payment, gross=-amount)

    def maybe_malform(self, row: SettlementRow) -> None:
        # both draws happen for every row, so the rate alone decides which rows break
        roll, how = self.rng.random(), self.rng.random()
        if roll >= self.world.malformed_rate:
            return
        if how < 0.5:
            column = next(c for c in ("Gross Credit (GC)", "Gross Debit (GC)", "Net Debit (NC)") if row.cells.get(c))
            row.malformed = {column: f"${row.cells[column]}"}
        else:
            day_first = datetime.strptime(row.cells["Creation Date"], "%Y-%m-%d %H:%M:%S")
            row.malformed = {"Creation Date": day_first.strftime("%d/%m/%Y %H:%M")}

    # ---- ground truth ------------------------------------------------------------------------
    def record_truth(self) -> None:
        """What a correct reconciliation finds in the lines that load (a quarantined row is no line)."""
        world, batches = self.world, self.sandbox.batches
        matched: set[tuple[str, str]] = set()  # (role, PSP reference) of the payments a line settles
        for batch in batches:
            if batch.payout is not None and sum((row.net for row in batch.rows if row.malformed), Decimal("0")):
                world.expect_exception(PSP, "payout_total_mismatch", "payout", batch.payout_id)
            for line_number, row in enumerate(batch.rows, start=2):  # the header is line 1
                if row.malformed or row.role in ("fee", "payout"):
                    continue
                line_id = f"{MERCHANT_ACCOUNT}/{batch.batch_number}/{line_number}"
                payment = row.payment
                if row.role in ("sale", "refund"):
                    if (row.role, payment.psp_reference) in matched:  # the earlier line got the payment
                        world.expect_exception(PSP, "duplicate_settlement_line", "settlement_line", line_id)
                        continue
                    matched.add((row.role, payment.psp_reference))
                    variance = row.gross - (payment.amount if row.role == "sale" else -payment.amount)
                    world.expect_match(PSP, line_id, payment.merchant_reference, "exact_reference", variance)
                    if variance:
                        world.expect_exception(PSP, "amount_mismatch", "settlement_line", line_id)
                elif row.role == "keyed_sale":
                    if payment.psp_reference in self.ambiguous:
                        world.expect_exception(PSP, "ambiguous_match", "settlement_line", line_id)
                    else:
                        matched.add(("sale", payment.psp_reference))
                        world.expect_match(PSP, line_id, payment.merchant_reference, "amount_tolerance",
                                           row.gross - payment.amount)
                elif row.role == "chargeback":
                    world.expect_exception(PSP, "chargeback", "settlement_line", line_id)
                elif row.role == "unrecorded_sale":
                    world.expect_exception(PSP, "unmatched_settlement_line", "settlement_line", line_id)
        paid = [batch.business_day for batch in batches if batch.payout is not None]
        if not paid:
            return
        due = max(paid) + timedelta(days=PAYOUT_DELAY_DAYS - SETTLE_WITHIN_DAYS)
        for payment in self.captures.values():
            business_date = self.business_date(payment) or payment.at.astimezone(self.zone).date()
            if ("sale", payment.psp_reference) not in matched and business_date <= due:
                world.expect_exception(PSP, "captured_not_settled", "payment", payment.merchant_reference)


def simulate(world: World) -> AdyenSandbox:
    """Settle the world's Adyen card payments in daily batches; add each batch payout to world.deposits."""
    return _Simulation(world).run()


def drop_files(sandbox: AdyenSandbox, inbox_root: Path) -> list[Path]:
    """Write each batch's Settlement details report into <inbox_root>/adyen_settlements/, Adyen's file name."""
    folder = Path(inbox_root) / INBOX_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for batch in sandbox.batches:
        path = folder / batch.file_name
        path.write_bytes(sandbox.render(batch))
        paths.append(path)
    return paths
