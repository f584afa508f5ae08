"""Ground truth of the settlement journals: what docs/postings.md makes of every provider's paid payouts.

A journal for every payout the pipeline posts (a payout of marts.payouts with a postable status, `paid`):
the Shopify Payments and Stripe payouts with status paid, every Adyen batch that paid out (its
MerchantPayout row), every Amazon settlement with at least one row that loads, every Bazaarly settlement
file (its Disbursement row). Each journal is the sum per GL account of the payout's settlement lines,
classified into posting roles and fee kinds as the int_<provider>__settlement_lines models classify them
and mapped to accounts by dbt_project/seeds/gl_settlement_map.csv (a row with the fee kind wins over the
provider's row without one):

- bank: the payout's STATED total, debit when positive;
- clearing: minus the gross of sale and refund lines; chargebacks: minus the gross of chargeback and
  chargeback_reversal lines; reserves: minus the gross of reserve_hold and reserve_release lines;
  adjustments: minus the gross of every other line (adjustment, other, fee);
- fees: plus the fee amount of every line, on the account of its fee kind.

A payout that spans a month end is split by period, so each month's books hold what the provider settled in
it. A line's period is the month of its posted date: settlement_lines.posted_at in the time zone of the
legal entity the journal is booked for (world.legal_entities; the entity of the provider's sales channel,
else the dbt default entity, as posting_batches picks it). Each provider's posted_at is read from the same
record the model reads it from: Shopify's processed_at and Stripe's created (instants), Adyen's booking
date (local time with its zone label, parsed as the loader parses it), Amazon's posted-date-time (a UTC
instant), a marketplace row's posting date taken as local midnight in its entity's zone (so the date
itself). Lines of a month before the payout's are one batch per such month, dated its last day, and a
roll_forward posting (1198 payouts in transit) of minus their sum balances it; the payout's batch, dated
payout_date, keeps the other lines, the bank line and a roll_forward posting taking the earlier batches'
back. The roll-forward nets to zero across the payout's batches, their other accounts add up to the unsplit
journal, and a payout within one month is one batch without roll-forward, as it always was.

The amounts come from the simulation's own records of each payout (the balance transactions, report rows
and settlement rows it generated), not from the pipeline, so the pipeline is tested against them. A row a
simulation renders malformed in a dropped file is quarantined on load and never becomes a line: it is left
out of the sums, while the stated total still counts it, so such a payout's journal (its own batch, the one
with the bank line, when split) does not balance, as it would not in reality. Nothing is plugged.

Status, as the posting_batches mart decides it, per payout and shared by all its batches (`balanced` is each
batch's own): `ready`, or `blocked` with the sorted reasons
- unbalanced: the payout's accounts, all its batches together, do not sum to zero;
- bank_differs_from_deposit: the bank simulation expects a deposit_different or deposit_missing
  exception on the payout (world.expected_exceptions);
- awaiting_deposit: the deposit is on no statement line that loads (pending after the last statement, or
  on a quarantined line) and is not overdue (the bank expects no deposit_missing for it);
- open_blocking_exception: world.expected_exceptions holds a payout_total_mismatch, deposit_different or
  deposit_missing with reference_type payout for the payout.
The deposit facts are read from the bank simulation's ledgers (its statements' entries and pending
deposits) and the world's expected exceptions, not re-derived. The one exception is a payout the bank never
receives (an Amazon settlement that nets to zero or less, a Bazaarly file that nets to zero): no deposit
exists, so the bank records nothing; the payouts mart calls its deposit missing once overdue
(settlement_providers.csv deposit_within_days before the last statement day) and awaiting before.
"""
from __future__ import annotations

import calendar
import csv
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from connectors.adyen.settlement_details import parse_local_timestamp
from connectors.marketplace.raw_tables import source_name
from connectors.sandbox.channels.adyen import MERCHANT_ACCOUNT
from connectors.sandbox.channels.amazon import TIME_ZONE as AMAZON_TIME_ZONE
from connectors.stripe.models import to_major

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
SEEDS = DBT_PROJECT / "seeds"
GL_SETTLEMENT_MAP = SEEDS / "gl_settlement_map.csv"
SETTLEMENT_PROVIDERS = SEEDS / "settlement_providers.csv"
SALES_CHANNELS = SEEDS / "sales_channels.csv"
BLOCKING_EXCEPTION_REASONS = ("payout_total_mismatch", "deposit_different", "deposit_missing")
DEPOSIT_EXCEPTION_REASONS = ("deposit_different", "deposit_missing")
ZERO = Decimal("0")

# A settlement line as the models make it, and when it was posted (settlement_lines.posted_at, aware)
Line = tuple  # (line_type, fee_kind or None, gross_amount, fee_amount)
DatedLine = tuple  # (posted_at, Line)


def _gl_map() -> dict[tuple[str, str, str | None], str]:
    """(provider, posting role, fee kind or None) -> account code, read from the dbt seed."""
    with GL_SETTLEMENT_MAP.open(newline="") as seed:
        return {(row["provider"], row["posting_role"], row["fee_kind"] or None): row["account_code"]
                for row in csv.DictReader(seed)}


def _deposit_within_days() -> dict[str, int]:
    with SETTLEMENT_PROVIDERS.open(newline="") as seed:
        return {row["provider"]: int(row["deposit_within_days"]) for row in csv.DictReader(seed)}


def _entity_zone(world, provider: str) -> ZoneInfo:
    """The time zone of the legal entity a provider's journals are booked for, chosen as posting_batches
    chooses the entity: its sales channel's (seeds/sales_channels.csv, the least id if several), else
    var default_legal_entity_id (a PSP no channel names). The zone is the world's (world.legal_entities)."""
    with SALES_CHANNELS.open(newline="") as seed:
        entities = [row["legal_entity_id"] for row in csv.DictReader(seed) if row["provider"] == provider]
    if entities:
        entity_id = min(entities)
    else:
        entity_id = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"]["default_legal_entity_id"]
    return ZoneInfo(next(e.time_zone for e in world.legal_entities if e.legal_entity_id == entity_id))


def _role(line_type: str) -> str:
    if line_type in ("sale", "refund"):
        return "clearing"
    if line_type in ("chargeback", "chargeback_reversal"):
        return "chargebacks"
    if line_type in ("reserve_hold", "reserve_release"):
        return "reserves"
    return "adjustments"


# ---- each provider's payouts: (payout_id, posting_date, currency, stated amount, dated lines that load) ----

def _shopify(web) -> list[tuple]:
    """int_shopify__settlement_lines: every balance transaction but the payout's own, fee = 'processing';
    posted when processed (processed_at, an ISO instant with its offset)."""
    store = web.store
    lines_of: dict = {}
    for txn in store.balance_transactions:
        if txn["type"] == "payout":
            continue
        line_type = {"charge": "sale", "refund": "refund", "adjustment": "adjustment", "dispute": "chargeback",
                     "reserved_funds": "reserve_hold"}.get(txn["type"], "other")
        fee = Decimal(txn["fee"] or "0")
        lines_of.setdefault(txn["payout_id"], []).append(
            (datetime.fromisoformat(txn["processed_at"]),
             (line_type, "processing" if fee else None, Decimal(txn["amount"]), fee)))
    return [(str(p["id"]), p["date"], p["currency"].upper(), Decimal(p["amount"]), lines_of.get(p["id"], []))
            for p in store.payouts if p["status"] == "paid"]


def _stripe(sandbox) -> list[tuple]:
    """int_stripe__settlement_lines: a payout's balance transactions but its own; Stripe's fee transactions
    are all fee (gross 0), a dispute's movement a chargeback (or its reversal) with a chargeback_fee; posted
    when created (created, a Unix instant)."""
    payouts = []
    for payout in sandbox.payouts:
        if payout["status"] != "paid":
            continue
        currency = payout["currency"]
        lines = []
        for txn in sandbox.balance_transactions:
            if txn["type"] == "payout" or sandbox.payout_of.get(txn["id"]) != payout["id"]:
                continue
            amount, fee = to_major(txn["amount"], currency), to_major(txn["fee"], currency)
            kind, category = txn["type"], txn["reporting_category"]
            if kind in ("charge", "payment"):
                line_type = "sale"
            elif kind in ("refund", "payment_refund"):
                line_type = "refund"
            elif category in ("dispute", "dispute_reversal"):
                line_type = "chargeback_reversal" if amount > 0 else "chargeback"
            elif kind in ("stripe_fee", "stripe_fx_fee", "tax_fee"):
                line_type = "fee"
            elif kind in ("adjustment", "payout_failure", "payout_cancel"):
                line_type = "adjustment"
            elif kind == "payment_network_reserve_hold":
                line_type = "reserve_hold"
            elif kind == "payment_network_reserve_release":
                line_type = "reserve_release"
            else:
                line_type = "other"
            if line_type in ("chargeback", "chargeback_reversal") and fee:
                fee_kind = "chargeback_fee"
            elif line_type == "fee":
                fee_kind = "other" if kind == "tax_fee" else "processing"
            else:
                fee_kind = "processing" if fee else None
            posted_at = datetime.fromtimestamp(txn["created"], timezone.utc)
            if line_type == "fee":
                lines.append((posted_at, (line_type, fee_kind, ZERO, fee - amount)))
            else:
                lines.append((posted_at, (line_type, fee_kind, amount, fee)))
        arrival = datetime.fromtimestamp(payout["arrival_date"], timezone.utc).date()
        payouts.append((payout["id"], arrival.isoformat(), currency.upper(), to_major(payout["amount"], currency),
                        lines))
    return payouts


def _adyen_amount(cells: dict, debit: str, credit: str) -> Decimal | None:
    debit_value, credit_value = cells.get(debit) or None, cells.get(credit) or None
    if debit_value is None and credit_value is None:
        return None
    return Decimal(credit_value or "0") - Decimal(debit_value or "0")


def _adyen_posted_at(cells: dict) -> datetime:
    return (parse_local_timestamp(cells.get("Booking Date"), cells.get("Booking Date TimeZone"), "Booking Date",
                                  "Booking Date TimeZone")
            or parse_local_timestamp(cells.get("Creation Date"), cells.get("TimeZone"), "Creation Date", "TimeZone"))


def _adyen(sandbox) -> list[tuple]:
    """int_adyen__settlement_lines: every well-formed row of a batch but the MerchantPayout; Interchange++
    fees on a row with a gross, the whole net as fee on one without (a Fee row); posted when booked into the
    batch (coalesce(booked_at, created_at): local times with their zone label, read as the loader reads them)."""
    record_types = {"Settled": "sale", "Refunded": "refund", "Chargeback": "chargeback",
                    "SecondChargeback": "chargeback", "ChargebackReversed": "chargeback_reversal", "Fee": "fee",
                    "MiscCosts": "fee", "InvoiceDeduction": "fee"}
    payouts = []
    for batch in sandbox.batches:
        payout_row = next((row for row in batch.rows if row.cells.get("Type") == "MerchantPayout"), None)
        if payout_row is None or payout_row.malformed:
            continue  # nothing paid out (or, never in the sandbox, a payout row the loader drops)
        lines = []
        for row in batch.rows:
            cells = row.cells
            if row.malformed or cells.get("Type") == "MerchantPayout":
                continue
            line_type = record_types.get(cells.get("Type"), "other")
            gross = _adyen_amount(cells, "Gross Debit (GC)", "Gross Credit (GC)")
            net = _adyen_amount(cells, "Net Debit (NC)", "Net Credit (NC)") or ZERO
            transaction_fees = sum((Decimal(cells.get(column) or "0") for column in
                                    ("Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)")), ZERO)
            fee = -net if gross is None else transaction_fees
            if fee == 0:
                fee_kind = None
            elif line_type in ("chargeback", "chargeback_reversal"):
                fee_kind = "chargeback_fee"
            elif line_type in ("sale", "refund"):
                fee_kind = "processing"
            else:
                fee_kind = "other"
            lines.append((_adyen_posted_at(cells), (line_type, fee_kind, gross or ZERO, fee)))
        cells = payout_row.cells
        # Adyen writes local times of the merchant account's zone (REPORT_TIME_ZONE): the batch closes on that
        # local date, and the payout reaches the bank the day after
        local_day = datetime.strptime(cells.get("Booking Date") or cells["Creation Date"], "%Y-%m-%d %H:%M:%S").date()
        stated = -_adyen_amount(cells, "Net Debit (NC)", "Net Credit (NC)")
        payouts.append((f"{MERCHANT_ACCOUNT} batch {batch.batch_number}", (local_day + timedelta(days=1)).isoformat(),
                        cells["Net Currency"].upper(), stated, lines))
    return payouts


def _like(text: str, *fragments: str) -> bool:
    return any(fragment in text for fragment in fragments)


def _amazon_line(row) -> Line:
    """int_amazon__settlement_row_events + int_amazon__settlement_lines for one report row that loads."""
    order_id = (row.order_id or "").strip() or None
    transaction_type = row.transaction_type or None
    description = (row.amount_description or "").lower()
    amount_type = row.amount_type or ""
    is_order_transaction = order_id is not None and transaction_type is not None
    is_fee_charge = row.amount < 0 and (_like(description, "fee", "commission") or "fee" in amount_type.lower())
    if is_order_transaction:
        if transaction_type == "Order":
            event_type = "sale"
        elif transaction_type == "Refund":
            event_type = "refund"
        elif "chargeback" in transaction_type.lower():
            event_type = "chargeback"
        else:
            event_type = "adjustment"
    else:
        event_type = "fee" if is_fee_charge else "adjustment"
    reserve_text = f"{transaction_type or ''}|{row.amount_description or ''}".lower()
    if order_id is None and "current reserve amount" in reserve_text:
        line_type = "reserve_hold"
    elif order_id is None and "previous reserve amount balance" in reserve_text:
        line_type = "reserve_release"
    elif event_type in ("sale", "refund", "chargeback") and amount_type in ("ItemPrice", "Promotion"):
        line_type = event_type
    elif event_type in ("sale", "refund", "chargeback", "fee"):
        line_type = "fee"
    else:
        line_type = "adjustment"
    if line_type != "fee":
        return line_type, None, row.amount, ZERO
    text = f"{transaction_type or ''}|{amount_type}|{row.amount_description or ''}".lower()
    if _like(text, "withheld", "facilitatortax"):
        fee_kind = "withheld_tax"
    elif _like(text, "commission", "referral", "closingfee", "closing fee"):
        fee_kind = "commission"
    elif _like(text, "fba", "fulfil", "storage", "shippingchargeback", "shippinghb"):
        fee_kind = "fulfilment"
    elif "label" in text:
        fee_kind = "shipping_label"
    elif "advertis" in text:
        fee_kind = "advertising"
    elif "subscription" in text:
        fee_kind = "subscription"
    else:
        fee_kind = "other"
    # the report signs from the seller's side; a fee is what Amazon keeps
    return line_type, fee_kind, ZERO, -row.amount


def _amazon(sandbox) -> list[tuple]:
    """int_amazon__payouts: every settlement one of whose rows loads, paid on its deposit date (New York). A
    row is posted at its posted-date-time (posted_at, a UTC instant), which the sandbox writes on every row
    (only a row without one would fall back to its posted-date, as midnight UTC)."""
    payouts = []
    for settlement in sandbox.settlements:
        loaded = [row for row in settlement.lines if not row.malformed]
        if not loaded:
            continue  # every row quarantined: the pipeline never learns of the settlement
        posting_date = settlement.deposit_at.astimezone(ZoneInfo(AMAZON_TIME_ZONE)).date()
        payouts.append((settlement.settlement_id, posting_date.isoformat(), settlement.currency.upper(),
                        settlement.total, [(row.posted_at, _amazon_line(row)) for row in loaded]))
    return payouts


def _marketplace(sandbox, zone: ZoneInfo) -> list[tuple]:
    """int_marketplace__settlement_lines / __payouts: every row of a file that loads but the Disbursement,
    fee rows all fee; the Disbursement is the payout, at the bank the next day. A row is posted at its
    posted_at when the mapping has that column (the sandbox writes noon of the posting date, read in the
    mapping's zone), else at the local midnight of its posting date in the zone of the channel's legal
    entity (`zone`, as marketplace_local_midnight makes occurred_at)."""
    fee_kinds = {"commission": "commission", "shipping_fee": "shipping_label", "advertising_fee": "advertising"}
    payouts = []
    for settlement in sandbox.settlements:
        payout_row = next((row for row in settlement.rows if row.line_type == "payout"), None)
        if payout_row is None or payout_row.malformed:
            continue
        lines = []
        for row in settlement.rows:
            if row.malformed or row.line_type == "payout":
                continue
            if row.line_type in ("sale", "refund", "adjustment"):
                line = (row.line_type, None, row.amount, ZERO)  # no fee on Bazaarly's own lines
            elif row.line_type in fee_kinds:
                line = ("fee", fee_kinds[row.line_type], ZERO, -row.amount)
            else:
                line = ("other", "other" if row.amount else None, ZERO, -row.amount)
            if sandbox.mapping.columns.posted_at:
                posted_at = datetime.combine(row.posted_date, time(12), ZoneInfo(sandbox.mapping.time_zone))
            else:
                posted_at = datetime.combine(row.posted_date, time(0), zone)
            lines.append((posted_at, line))
        payouts.append((settlement.settlement_id, (settlement.business_date + timedelta(days=1)).isoformat(),
                        (sandbox.mapping.currency or "USD").upper(),
                        payout_row.amount, lines))
    return payouts


# ---- journals ----------------------------------------------------------------------------------------

def _account(gl: dict, provider: str, role: str, fee_kind: str | None = None) -> str:
    """The account of a posting role (a fee kind's own row wins over the provider's row without one)."""
    code = gl.get((provider, role, fee_kind)) if fee_kind else None
    code = code or gl.get((provider, role, None))
    if code is None:
        raise ValueError(f"gl_settlement_map has no account for {provider} {role} {fee_kind or ''}")
    return code


def _postings(provider: str, lines: list[Line], gl: dict) -> dict[str, Decimal]:
    """What settlement lines post, summed per account (no bank line)."""
    sums: dict[str, Decimal] = {}

    def book(code: str, amount: Decimal) -> None:
        sums[code] = sums.get(code, ZERO) + amount

    for line_type, fee_kind, gross, fee in lines:
        if fee:
            book(_account(gl, provider, "fees", fee_kind), fee)
        if gross:
            book(_account(gl, provider, _role(line_type)), -gross)
    return sums


def _journal(provider: str, payout_id: str, stated: Decimal, lines: list[Line], gl: dict) -> dict[str, Decimal]:
    """A payout's journal in one batch: the bank line (the stated total) and what its lines post."""
    sums = _postings(provider, lines, gl)
    bank = _account(gl, provider, "bank")
    sums[bank] = sums.get(bank, ZERO) + stated
    return sums


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _batches(provider: str, payout_id: str, posting_date: date, stated: Decimal, dated_lines: list[DatedLine],
             gl: dict, zone: ZoneInfo) -> list[tuple[date, dict[str, Decimal]]]:
    """A payout's journal split by period: (posting date, sums per account) per batch, earliest first.

    A line's period is the month of its posted_at in the legal entity's zone. The lines of a month before the
    payout's go to a batch of that month, dated its last day, balanced by the roll-forward account (payouts
    in transit); every other line stays in the payout's batch, with the bank line and the roll-forward of
    the earlier batches taken back, so the roll-forward nets to zero and the payout's batch balances exactly
    when the payout does. A payout within one month is one batch, as before.
    """
    payout_month = (posting_date.year, posting_date.month)
    lines_of: dict[tuple[int, int], list[Line]] = {}
    for posted_at, line in dated_lines:
        local = posted_at.astimezone(zone).date()
        lines_of.setdefault(min((local.year, local.month), payout_month), []).append(line)
    roll_forward = _account(gl, provider, "roll_forward")
    batches, carried = [], ZERO
    for month in sorted(lines_of):
        if month == payout_month:
            continue
        sums = _postings(provider, lines_of[month], gl)
        moved = sum(sums.values(), ZERO)
        sums[roll_forward] = sums.get(roll_forward, ZERO) - moved
        carried += moved
        batches.append((_last_day(*month), sums))
    sums = _journal(provider, payout_id, stated, lines_of.get(payout_month, []), gl)
    if batches:
        sums[roll_forward] = sums.get(roll_forward, ZERO) + carried
    batches.append((posting_date, sums))
    return batches


def settlement_journal_truth(world, channels: dict) -> list[dict]:
    """Every postable payout's settlement journal batches, their balance and status, in a stable order.

    `channels` is simulate()'s dict of channel simulations (shopify_web, stripe, adyen, amazon, marketplace,
    bank); run it after the bank simulation, whose deposit exceptions it reads from world.expected_exceptions.
    """
    gl = _gl_map()
    within = _deposit_within_days()
    marketplace = channels["marketplace"]
    marketplace_provider = source_name(marketplace.marketplace)
    by_provider = {
        "shopify_payments": _shopify(channels["shopify_web"]),
        "stripe": _stripe(channels["stripe"]),
        "adyen": _adyen(channels["adyen"]),
        "amazon": _amazon(channels["amazon"]),
        marketplace_provider: _marketplace(marketplace, _entity_zone(world, marketplace_provider)),
    }

    # the bank's ledgers: which deposits reached a statement line that loads, and what the truth expects
    bank = channels["bank"]
    on_statement = {(e.deposit.provider, e.deposit.payout_id) for s in bank.statements for e in s.entries
                    if e.deposit is not None and not e.malformed}
    deposited = {(d.provider, d.payout_id) for d in world.deposits}
    statement_days = [s.day for s in bank.statements]
    last_statement_day = max(statement_days) if statement_days else None
    payout_exceptions: dict[tuple[str, str], set[str]] = {}
    for exception in world.expected_exceptions:
        if exception.reference_type == "payout":
            payout_exceptions.setdefault((exception.provider, exception.reference_id), set()).add(
                exception.reason_code)

    journals = []
    for provider, payouts in by_provider.items():
        zone = _entity_zone(world, provider)
        for payout_id, posting_date, currency, stated, dated_lines in payouts:
            key = (provider, str(payout_id))
            batches = _batches(provider, str(payout_id), date.fromisoformat(posting_date), stated, dated_lines, gl,
                               zone)
            # the status is the payout's, shared by its batches: the roll-forward nets to zero across them
            total = sum((amount for _, sums in batches for amount in sums.values()), ZERO)
            reasons = payout_exceptions.get(key, set())
            blocked = set()
            if total != 0:
                blocked.add("unbalanced")
            if reasons & set(DEPOSIT_EXCEPTION_REASONS):
                blocked.add("bank_differs_from_deposit")
            elif key not in on_statement:
                if key in deposited:
                    blocked.add("awaiting_deposit")  # not overdue, or the bank would expect deposit_missing
                else:
                    # no deposit ever comes (nothing paid out): missing once overdue, as the payouts mart says
                    due = date.fromisoformat(posting_date) + timedelta(days=within[provider])
                    overdue = last_statement_day is not None and due <= last_statement_day
                    blocked.add("bank_differs_from_deposit" if overdue else "awaiting_deposit")
            if reasons & set(BLOCKING_EXCEPTION_REASONS):
                blocked.add("open_blocking_exception")
            for batch_date, sums in batches:
                journals.append({
                    "provider": provider, "payout_id": str(payout_id), "posting_date": batch_date.isoformat(),
                    "currency": currency,
                    "accounts": {code: format(amount.quantize(Decimal("0.01")), "f")
                                 for code, amount in sorted(sums.items()) if amount != 0},
                    "balanced": sum(sums.values(), ZERO) == 0, "status": "blocked" if blocked else "ready",
                    "blocked_reasons": sorted(blocked),
                })
    return sorted(journals, key=lambda j: (j["provider"], j["posting_date"], j["payout_id"]))
