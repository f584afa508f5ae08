"""The retailer's bank: daily statements of two accounts, rendered from every payout in the world.

Runs last, after every channel and PSP simulation, because it reads what they paid out
(`world.deposits`). Each deposit is booked as a credit (a negative payout as a debit) on the
first bank business day on or after its value date; a deposit booked after the window is on no
statement yet. Now and then (world.anomaly_rate / 2) a correspondent bank takes a 15.00 charge out
of an incoming transfer, so the deposit differs from the payout. The ground truth expects a
deposit_different for those and a deposit_missing for every deposit overdue on the last statement
(per seeds/settlement_providers.csv deposit_within_days) that is on no statement or on a malformed
line. Marketplace payouts (Amazon, marketplace_*) reach the marketplace receipts account,
every other provider the operating account. Lines that match no payout sit beside them so that
matching is not trivial: rent and payroll debits, service charges, cheques paid, and on Fridays a
sweep of the receipts account into the operating account (a debit on one, a credit on the other).

The operating account is exported as the bank's daily CSV (connectors/bank/statement_csv.py), the
receipts account as daily camt.053 XML (connectors/bank/camt053.py, BAI2 code in BkTxCd/Prtry as US
banks write it). Statements exist for weekdays only; each opens at the previous one's closing
balance. At the world's malformed_rate an entry is rendered malformed: it still counts in the
bank's closing balance, so its statement no longer ties out once the entry is quarantined.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from connectors.bank.camt053 import NAMESPACE_PREFIX
from connectors.bank.raw_tables import INBOX_FOLDER
from connectors.bank.statement_csv import COLUMNS, DATE_FORMAT
from connectors.sandbox.world import Deposit, World, cents

SOURCE = "bank"  # the ground-truth source of world.records
CAMT_NAMESPACE = NAMESPACE_PREFIX + "001.08"
MARKETPLACE_PROVIDERS = ("amazon",)  # plus every marketplace_<name>
COUNTERPARTIES = {"shopify_payments": "SHOPIFY PAYMENTS", "stripe": "STRIPE", "adyen": "ADYEN N.V.",
                  "amazon": "AMAZON.COM SERVICES LLC", "paypal": "PAYPAL", "square": "SQUARE INC"}
MALFORMED_KINDS = ("date", "amount")
WIRE_CHARGE = Decimal("15.00")
SETTLEMENT_PROVIDERS = Path(__file__).resolve().parents[3] / "dbt_project" / "seeds" / "settlement_providers.csv"


@dataclass(frozen=True)
class BankAccount:
    account_id: str
    name: str
    file_format: str  # csv or camt053
    bank_name: str = "HUDSON COMMERCE BANK"


OPERATING = BankAccount("483101927", "OMNIRECON RETAIL US INC OPERATING", "csv")
RECEIPTS = BankAccount("483101935", "OMNIRECON RETAIL US INC MARKETPLACE RECEIPTS", "camt053")


@dataclass
class BankEntry:
    reference: str  # the bank's reference (AcctSvcrRef / Bank Reference), unique per account
    booking_date: date
    value_date: date
    amount: Decimal  # signed: credit positive
    currency: str
    code: str  # BAI2 type code
    description: str
    counterparty: str | None = None
    customer_reference: str | None = None
    deposit: Deposit | None = None  # the payout this line is, if it is one
    malformed: str | None = None


@dataclass
class Statement:
    account: BankAccount
    day: date
    currency: str
    opening: Decimal
    entries: list[BankEntry] = field(default_factory=list)

    @property
    def statement_id(self) -> str:
        return f"{self.account.account_id}-{self.day:%Y%m%d}"

    @property
    def closing(self) -> Decimal:
        return self.opening + sum((e.amount for e in self.entries), Decimal("0"))


@dataclass
class BankSandbox:
    accounts: tuple[BankAccount, ...]
    statements: list[Statement] = field(default_factory=list)
    pending_deposits: list[Deposit] = field(default_factory=list)  # value-dated after the last statement
    ground_truth: dict = field(default_factory=dict)


def bank_days(world: World) -> list[date]:
    return [day for day in world.business_days if day.weekday() < 5]


def account_for(deposit: Deposit) -> BankAccount:
    if deposit.provider in MARKETPLACE_PROVIDERS or deposit.provider.startswith("marketplace_"):
        return RECEIPTS
    return OPERATING


class _Simulation:
    def __init__(self, world: World):
        self.world = world
        self.rng = world.rng(SOURCE)
        self.malformed_rng = world.rng(f"{SOURCE}:malformed")
        self.days = bank_days(world)
        self.sequence = 0

    def _reference(self, account: BankAccount, day: date) -> str:
        self.sequence += 1
        return f"{day:%y%m%d}{account.account_id[-3:]}{self.sequence:06d}"

    def _entry(self, account: BankAccount, day: date, amount: Decimal, code: str, description: str, **more
               ) -> BankEntry:
        return BankEntry(self._reference(account, day), day, more.pop("value_date", day), cents(amount),
                         self.world.currency, code, description, **more)

    def run(self) -> BankSandbox:
        world, rng = self.world, self.rng
        sandbox = BankSandbox((OPERATING, RECEIPTS))
        balances = {OPERATING: Decimal(rng.randint(180_000, 320_000)) + Decimal(rng.randint(0, 99)) / 100,
                    RECEIPTS: Decimal(rng.randint(2_000, 9_000)) + Decimal(rng.randint(0, 99)) / 100}
        booked = self._book_deposits(sandbox)
        for day in self.days:
            receipts = Statement(RECEIPTS, day, world.currency, balances[RECEIPTS], booked[RECEIPTS].get(day, []))
            operating = Statement(OPERATING, day, world.currency, balances[OPERATING],
                                  booked[OPERATING].get(day, []))
            self._receipts_lines(receipts, operating)
            self._operating_lines(operating)
            for statement in (receipts, operating):
                for entry in statement.entries:
                    if self.malformed_rng.random() < world.malformed_rate:
                        entry.malformed = self.malformed_rng.choice(MALFORMED_KINDS)
                balances[statement.account] = statement.closing
            sandbox.statements += [operating, receipts]
        self._record_deposit_exceptions(sandbox)
        self._count(sandbox)
        return sandbox

    def _book_deposits(self, sandbox: BankSandbox) -> dict[BankAccount, dict[date, list[BankEntry]]]:
        booked: dict[BankAccount, dict[date, list[BankEntry]]] = {OPERATING: {}, RECEIPTS: {}}
        ordered = sorted(self.world.deposits, key=lambda d: (d.value_date, d.provider, d.payout_id))
        for deposit in ordered:
            day = next((d for d in self.days if d >= deposit.value_date), None)
            if day is None:
                sandbox.pending_deposits.append(deposit)
                continue
            account = account_for(deposit)
            credit = deposit.amount >= 0
            entry = self._entry(account, day, deposit.amount, "165" if credit else "455", deposit.bank_reference,
                                value_date=deposit.value_date, deposit=deposit,
                                counterparty=COUNTERPARTIES.get(deposit.provider, deposit.provider.upper()),
                                customer_reference=deposit.payout_id)
            entry.currency = deposit.currency
            if self.rng.random() < self.world.anomaly_rate / 2:
                # A correspondent bank takes its charge out of the incoming transfer.
                entry.amount -= WIRE_CHARGE
                entry.description += " LESS CORRESPONDENT CHG"
            booked[account].setdefault(day, []).append(entry)
        return booked

    def _record_deposit_exceptions(self, sandbox: BankSandbox) -> None:
        """What payout tie-out must find at the bank: deposits booked for another amount, and deposits
        overdue on the last statement (not booked in the window, or on a line the loader quarantines)."""
        within = _deposit_within_days()
        last_statement_day = self.days[-1] if self.days else None
        entries = {e.deposit.payout_id: e for s in sandbox.statements for e in s.entries if e.deposit is not None}
        for deposit in self.world.deposits:
            entry = entries.get(deposit.payout_id)
            if entry is not None and not entry.malformed:
                if entry.amount != deposit.amount:
                    self.world.expect_exception(deposit.provider, "deposit_different", "payout", deposit.payout_id)
            elif last_statement_day and deposit.value_date + timedelta(days=within[deposit.provider]) <= last_statement_day:
                self.world.expect_exception(deposit.provider, "deposit_missing", "payout", deposit.payout_id)

    def _receipts_lines(self, receipts: Statement, operating: Statement) -> None:
        day = receipts.day
        if _first_bank_day_of_month(day):
            receipts.entries.append(self._entry(RECEIPTS, day, Decimal("-35.00"), "698",
                                                "ACCOUNT ANALYSIS FEE", counterparty=RECEIPTS.bank_name))
        if day.weekday() == 4 and receipts.closing > Decimal("5000"):
            # Friday sweep: everything above a 5,000.00 floor moves to operating, the same day
            swept = receipts.closing - Decimal("5000")
            reference = f"SWEEP{day:%Y%m%d}"
            receipts.entries.append(self._entry(RECEIPTS, day, -swept, "501",
                                                f"BOOK TRANSFER TO {OPERATING.account_id}",
                                                customer_reference=reference, counterparty=OPERATING.name))
            operating.entries.append(self._entry(OPERATING, day, swept, "201",
                                                 f"BOOK TRANSFER FROM {RECEIPTS.account_id}",
                                                 customer_reference=reference, counterparty=RECEIPTS.name))

    def _operating_lines(self, operating: Statement) -> None:
        day, rng = operating.day, self.rng
        if _first_bank_day_of_month(day):
            operating.entries.append(self._entry(OPERATING, day, Decimal("-18500.00"), "495",
                                                 f"WIRE OUT RENT {day:%b %Y}".upper(),
                                                 counterparty="SOHO RETAIL PROPERTIES LLC"))
        if day.weekday() == 2:
            amount = Decimal(rng.randint(4_100_000, 4_600_000)) / 100
            operating.entries.append(self._entry(OPERATING, day, -amount, "455", "ADP PAYROLL FEES ADP - TAX",
                                                 counterparty="ADP INC", customer_reference=f"PR{day:%Y%m%d}"))
        if rng.random() < 0.3:
            amount = Decimal(rng.randint(2500, 9000)) / 100
            operating.entries.append(self._entry(OPERATING, day, -amount, "698", "SERVICE CHARGE",
                                                 counterparty=OPERATING.bank_name))
        if rng.random() < 0.25:
            number = 1040 + rng.randint(0, 400)
            amount = Decimal(rng.randint(15_000, 250_000)) / 100
            operating.entries.append(self._entry(OPERATING, day, -amount, "475", f"CHECK PAID #{number}",
                                                 customer_reference=str(number)))

    def _count(self, sandbox: BankSandbox) -> None:
        entries = [e for s in sandbox.statements for e in s.entries]
        bad = sum(1 for e in entries if e.malformed)
        self.world.count(SOURCE, "statement_lines", len(entries) - bad)
        self.world.count(SOURCE, "_quarantine", bad)
        sandbox.ground_truth = {
            "statements": len(sandbox.statements),
            "deposits_booked": sum(1 for e in entries if e.deposit is not None),
            "deposits_pending": len(sandbox.pending_deposits),
            "closing_balances": {s.statement_id: format(s.closing, "f") for s in sandbox.statements},
        }


def _deposit_within_days() -> dict[str, int]:
    """The retailer's configured days before a payout is overdue at the bank, per provider."""
    with SETTLEMENT_PROVIDERS.open(newline="") as seed:
        return {row["provider"]: int(row["deposit_within_days"]) for row in csv.DictReader(seed)}


def _first_bank_day_of_month(day: date) -> bool:
    earlier = day - timedelta(days=1)
    while earlier.month == day.month:
        if earlier.weekday() < 5:
            return False
        earlier -= timedelta(days=1)
    return True


def simulate(world: World) -> BankSandbox:
    """The bank statements of the world's window; run after every simulation that adds deposits."""
    return _Simulation(world).run()


# ---------------------------------------------------------------------------------------------
# Files


def _us_amount(value: Decimal) -> str:
    return f"{cents(value):,.2f}"


def statement_csv(statement: Statement) -> bytes:
    """The operating account's day as the bank's CSV export: 010, entries, 015."""
    account = statement.account
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    posting = statement.day.strftime(DATE_FORMAT)

    def balance_row(code: str, label: str, amount: Decimal) -> list[str]:
        return [account.account_id, account.name, statement.currency, posting, "", code, label, "", "", "", "", "",
                _us_amount(amount)]

    writer.writerow(balance_row("010", "OPENING LEDGER", statement.opening))
    running = statement.opening
    for entry in statement.entries:
        running += entry.amount
        debit = _us_amount(-entry.amount) if entry.amount < 0 else ""
        credit = _us_amount(entry.amount) if entry.amount >= 0 else ""
        if entry.malformed == "amount":
            debit, credit = (debit + ".5", credit) if debit else (debit, credit + ".5")  # a cell garbled in export
        posted = f"{entry.booking_date:%m/%d}/2O{entry.booking_date:%y}" if entry.malformed == "date" else \
            entry.booking_date.strftime(DATE_FORMAT)
        writer.writerow([account.account_id, account.name, entry.currency, posted,
                         entry.value_date.strftime(DATE_FORMAT), entry.code, entry.description, debit, credit,
                         entry.reference, entry.customer_reference or "", entry.counterparty or "",
                         _us_amount(running)])
    writer.writerow(balance_row("015", "CLOSING LEDGER", statement.closing))
    return buffer.getvalue().encode("utf-8")


def _camt_balance(code: str, amount: Decimal, currency: str, day: date) -> str:
    return (f"      <Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f"<Amt Ccy={quoteattr(currency)}>{abs(cents(amount))}</Amt>"
            f"<CdtDbtInd>{'CRDT' if amount >= 0 else 'DBIT'}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>\n")


def _camt_entry(entry: BankEntry) -> str:
    indicator = "CRDT" if entry.amount >= 0 else "DBIT"
    amount = str(abs(cents(entry.amount)))
    booked = entry.booking_date.isoformat()
    if entry.malformed == "amount":
        amount = amount.replace(".", ",")
    elif entry.malformed == "date":
        booked = f"{entry.booking_date:%Y}-{entry.booking_date:%d}-{entry.booking_date:%m}-00"
    party = "Dbtr" if indicator == "CRDT" else "Cdtr"
    parties = (f"<RltdPties><{party}><Pty><Nm>{escape(entry.counterparty)}</Nm></Pty></{party}></RltdPties>"
               if entry.counterparty else "")
    return (
        "      <Ntry>\n"
        f"        <NtryRef>{escape(entry.reference)}</NtryRef>\n"
        f"        <Amt Ccy={quoteattr(entry.currency)}>{amount}</Amt>\n"
        f"        <CdtDbtInd>{indicator}</CdtDbtInd>\n"
        "        <Sts><Cd>BOOK</Cd></Sts>\n"
        f"        <BookgDt><Dt>{booked}</Dt></BookgDt>\n"
        f"        <ValDt><Dt>{entry.value_date.isoformat()}</Dt></ValDt>\n"
        f"        <AcctSvcrRef>{escape(entry.reference)}</AcctSvcrRef>\n"
        f"        <BkTxCd><Prtry><Cd>{entry.code}</Cd><Issr>BAI</Issr></Prtry></BkTxCd>\n"
        "        <NtryDtls><TxDtls>"
        f"<Refs><EndToEndId>{escape(entry.customer_reference or 'NOTPROVIDED')}</EndToEndId></Refs>"
        f"{parties}<RmtInf><Ustrd>{escape(entry.description)}</Ustrd></RmtInf></TxDtls></NtryDtls>\n"
        "      </Ntry>\n")


def statement_camt053(statement: Statement) -> bytes:
    """The receipts account's day as camt.053.001.08 (one Stmt, account by Othr/Id as US banks do)."""
    created = datetime.combine(statement.day + timedelta(days=1), time(6, 0), timezone.utc).isoformat()
    day = statement.day.isoformat()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{CAMT_NAMESPACE}">\n'
        "  <BkToCstmrStmt>\n"
        f"    <GrpHdr><MsgId>MSG{statement.statement_id}</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>\n"
        "    <Stmt>\n"
        f"      <Id>{statement.statement_id}</Id>\n"
        f"      <CreDtTm>{created}</CreDtTm>\n"
        f"      <FrToDt><FrDtTm>{day}T00:00:00-05:00</FrDtTm><ToDtTm>{day}T23:59:59-05:00</ToDtTm></FrToDt>\n"
        f"      <Acct><Id><Othr><Id>{statement.account.account_id}</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id>"
        f"<Ccy>{statement.currency}</Ccy><Nm>{escape(statement.account.name)}</Nm></Acct>\n"
        + _camt_balance("OPBD", statement.opening, statement.currency, statement.day)
        + _camt_balance("CLBD", statement.closing, statement.currency, statement.day)
        + "".join(_camt_entry(entry) for entry in statement.entries)
        + "    </Stmt>\n  </BkToCstmrStmt>\n</Document>\n")
    return body.encode("utf-8")


def drop_files(sandbox: BankSandbox, inbox_root: Path) -> list[Path]:
    """Every statement into <inbox_root>/bank_statements/: CSV for operating, camt.053 for receipts."""
    folder = Path(inbox_root) / INBOX_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for statement in sandbox.statements:
        account = statement.account
        if account.file_format == "csv":
            path = folder / f"operating_{account.account_id}_{statement.day:%Y%m%d}.csv"
            path.write_bytes(statement_csv(statement))
        else:
            path = folder / f"camt053_{account.account_id}_{statement.day:%Y%m%d}.xml"
            path.write_bytes(statement_camt053(statement))
        paths.append(path)
    return paths
