"""Adyen, the PSP of the stores' card terminals: one Settlement details report per daily batch.

From world.card_payments with psp "adyen" (store card tenders and in-store card refunds; the
merchant reference is the POS payment id) this builds what Adyen settles for the merchant
account, batch by batch, and renders each batch as Adyen's "Settlement details report" CSV in
the 2025 header generation (49 columns, the layout connectors/adyen/settlement_details.py reads):

- batches close daily at 21:00 America/New_York (the US01 entity's time zone, which is also the
  report's TimeZone column, labelled EST/EDT as the row's instant falls). A payment belongs to the
  batch of the first cut-off after it: a San Francisco sale at 18:30 local misses that day's batch.
  Payments after the last day's cut-off are not settled within the window: they are kept in
  `unsettled` and appear in no file;
- a `Settled` row per capture: Gross Credit, and Interchange++ fees (Commission a fixed 0.13,
  Markup 0.60%, Scheme Fees 0.13%, Interchange by card variant) deducted to give Net Credit;
- a `Refunded` row per refund: Gross Debit = Net Debit, no fees (as Adyen reports card refunds);
- now and then a `Fee` row (terminal rental) charged against the batch;
- the `MerchantPayout` row paying out the batch net (Net Debit), credited to the bank the next day
  (world.deposits, payout id "<merchant account> batch <n>"). A batch netting to zero or less pays
  nothing (Adyen carries the balance); the sandbox keeps batches positive with store volumes.

Batch numbers count days since the merchant account opened (2024-01-01), so a batch keeps its
number whatever window is simulated. At world.malformed_rate a transaction or fee row is written
malformed (an amount with a currency sign, or a day-first date): the parser quarantines it, and
its neighbours still load. Ground truth: world.records["adyen"]["settlement_details"] counts the
well-formed rows, ["_quarantine"] the malformed ones. The canonical payment events of these card
payments are the stores' Square tenders and refunds (provider adyen, provider_reference the PSP
reference): the POS simulation tallies them where it creates them (world.tally "payments"); Adyen's
settlement lines feed settlement matching, not the payments mart, so nothing is tallied here.
"""
from __future__ import annotations

import csv
import io
import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.sandbox.world import CardPayment, Deposit, World, cents, money

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
# card variant -> (payment method, interchange rate, interchange fixed part)
CARD_VARIANTS = {
    "visadebit": ("visa", Decimal("0.0005"), Decimal("0.22")),
    "visacredit": ("visa", Decimal("0.0180"), Decimal("0.10")),
    "mcdebit": ("mc", Decimal("0.0005"), Decimal("0.22")),
    "mccredit": ("mc", Decimal("0.0190"), Decimal("0.10")),
    "amex": ("amex", Decimal("0.0250"), Decimal("0.00")),
}

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


@dataclass
class SettlementRow:
    cells: dict[str, str]  # the row as Adyen means it (every value well-formed)
    net: Decimal  # signed, credit - debit: positive = money to the merchant
    malformed: dict[str, str] | None = None  # cells overridden in the file, when the row is rendered broken

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


@dataclass
class AdyenSandbox:
    merchant_account: str
    batches: list[AdyenBatch] = field(default_factory=list)
    unsettled: list[CardPayment] = field(default_factory=list)  # after the last batch's cut-off

    def render(self, batch: AdyenBatch) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for row in batch.rows:
            rendered = row.rendered
            writer.writerow([rendered.get(column, "") for column in HEADER])
        return out.getvalue().encode("utf-8")


def _stamp(moment: datetime) -> tuple[str, str]:
    """Creation/booking date and its zone label as Adyen writes them: local time, EST/EDT."""
    local = moment.astimezone(ZoneInfo(REPORT_TIME_ZONE))
    return local.strftime("%Y-%m-%d %H:%M:%S"), local.tzname()


class _Simulation:
    def __init__(self, world: World):
        self.world = world
        self.rng = world.rng(PSP)
        self.zone = ZoneInfo(REPORT_TIME_ZONE)
        self.sandbox = AdyenSandbox(MERCHANT_ACCOUNT)

    def reference(self) -> str:
        return "".join(self.rng.choice(_REFERENCE_ALPHABET) for _ in range(16))

    def batch_day(self, at: datetime) -> date:
        local = at.astimezone(self.zone)
        return local.date() + timedelta(days=1) if local.time() >= BATCH_CUTOFF else local.date()

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
        for day in self.world.business_days:
            if by_day.get(day):
                self.batch(day, by_day[day])
        return self.sandbox

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
                batch.rows.append(self.settled(payment, closed_at, number))
            elif payment.kind == "refund":
                batch.rows.append(self.refunded(payment, closed_at, number))
            else:
                raise ValueError(f"unknown card payment kind {payment.kind!r}")
        if self.rng.random() < FEE_ROW_RATE:
            fee = self.rng.choice(TERMINAL_FEES)
            cells = self.base(closed_at - timedelta(minutes=5), "Fee", closed_at, number)
            cells.update({"Modification Reference": f"Terminal rental {day:%B %Y}", "Net Currency": self.currency,
                          "Net Debit (NC)": money(fee)})
            batch.rows.append(SettlementRow(cells, -fee))
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
            batch.rows.append(SettlementRow(cells, -net))
            good += 1
            self.world.deposits.append(Deposit(
                provider=PSP, payout_id=f"{MERCHANT_ACCOUNT} batch {number}", amount=net, currency=self.currency,
                value_date=day + timedelta(days=PAYOUT_DELAY_DAYS),
                bank_reference=f"ADYEN PAYOUT {payout_ref} BATCH {number} {MERCHANT_ACCOUNT}"))
        self.world.count(PSP, "settlement_details", good)
        self.world.count(PSP, "_quarantine", len(batch.rows) - good)
        self.sandbox.batches.append(batch)

    @property
    def currency(self) -> str:
        return self.world.currency

    def settled(self, payment: CardPayment, booked_at: datetime, number: int) -> SettlementRow:
        variant = self.rng.choice(sorted(CARD_VARIANTS))
        method, rate, fixed = CARD_VARIANTS[variant]
        gross = cents(payment.amount)
        fees = {"Commission (NC)": COMMISSION, "Markup (NC)": cents(gross * MARKUP_RATE),
                "Scheme Fees (NC)": cents(gross * SCHEME_FEE_RATE), "Interchange (NC)": cents(gross * rate) + fixed}
        net = gross - sum(fees.values(), Decimal("0"))
        cells = self.base(payment.at, "Settled", booked_at, number)
        cells.update({
            "Psp Reference": payment.psp_reference, "Merchant Reference": payment.merchant_reference,
            "Payment Method": method, "Payment Method Variant": variant, "Modification Reference": self.reference(),
            "Modification Merchant Reference": payment.merchant_reference, "Gross Currency": payment.currency,
            "Gross Credit (GC)": money(gross), "Exchange Rate": "1", "Net Currency": payment.currency,
            "Net Credit (NC)" if net >= 0 else "Net Debit (NC)": money(abs(net)),
            **{column: money(fee) for column, fee in fees.items()},
            "Shopper Country": "US", "Merchant Order Reference": str(payment.order_id),
            "Settlement Flow": "US_Adyen", "Authorisation Code": f"{self.rng.randrange(10**6):06d}",
        })
        return SettlementRow(cells, net)

    def refunded(self, payment: CardPayment, booked_at: datetime, number: int) -> SettlementRow:
        variant = self.rng.choice(sorted(CARD_VARIANTS))
        amount = cents(payment.amount)
        cells = self.base(payment.at, "Refunded", booked_at, number)
        cells.update({
            "Psp Reference": payment.psp_reference, "Merchant Reference": payment.merchant_reference,
            "Payment Method": CARD_VARIANTS[variant][0], "Payment Method Variant": variant,
            "Modification Reference": self.reference(), "Modification Merchant Reference": payment.merchant_reference,
            "Gross Currency": payment.currency, "Gross Debit (GC)": money(amount), "Exchange Rate": "1",
            "Net Currency": payment.currency, "Net Debit (NC)": money(amount), "Shopper Country": "US",
            "Merchant Order Reference": str(payment.order_id), "Settlement Flow": "US_Adyen",
        })
        return SettlementRow(cells, -amount)

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
