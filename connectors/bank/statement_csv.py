"""Parser of a US bank's account activity CSV export (the operating account's daily statement).

There is no vendor sample of this export (no bank publishes one for an account that is not yours),
so the layout follows what US treasury portals export from BAI2 previous-day reporting (e.g. the
"Account Activity" CSV downloads of commercial banks), documented here as the contract:

    Account Number,Account Name,Currency,Posting Date,Value Date,BAI Code,Transaction Description,
    Debit,Credit,Bank Reference,Customer Reference,Counterparty Name,Running Balance

- One header row, comma-delimited, UTF-8, fields with commas quoted.
- Dates are MM/DD/YYYY. Amounts are US-formatted (`1,234.56`, commas optional); Debit and Credit
  hold positive numbers and exactly one of them is filled; the running balance is signed (`-` prefix).
- BAI2 type codes say what a row is: 010 opening ledger and 015 closing ledger are balance rows
  (their balance in Running Balance, Debit/Credit empty), every other code is an entry (e.g. 165
  preauthorised ACH credit, 195 incoming wire, 455 preauthorised ACH debit, 495 outgoing wire,
  698 fees, 699 miscellaneous debit).
- A file holds one or more statements: an (account, posting date) with its 010 and 015 rows.
  The statement id is `<account>-<yyyymmdd>` (the export has none of its own).

An entry row that cannot be read, or that belongs to no statement of the file, is quarantined
with a reason naming the column and value; the others still parse. A balance row that cannot be
read, or a statement lacking one, makes the file unreadable (ReportFormatError): without both
balances the statement cannot be tied out (see connectors/bank/statement_lines.py).
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from connectors.bank.statement_lines import ParsedStatements, StatementSummary, tie_out
from connectors.report_files import QuarantinedRow, ReportFormatError, RowError, data_rows, read_header, read_text

COLUMNS = (
    "Account Number", "Account Name", "Currency", "Posting Date", "Value Date", "BAI Code",
    "Transaction Description", "Debit", "Credit", "Bank Reference", "Customer Reference", "Counterparty Name",
    "Running Balance",
)
OPENING_LEDGER, CLOSING_LEDGER = "010", "015"
DATE_FORMAT = "%m/%d/%Y"

_AMOUNT = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def parse_amount(value: str | None, column: str, *, signed: bool = False) -> Decimal | None:
    text = _text(value)
    if text is None:
        return None
    if not _AMOUNT.match(text) or (text.startswith("-") and not signed):
        raise RowError(f"{column}: {text!r} is not a{' signed' if signed else ' positive'} amount like 1,234.56")
    return Decimal(text.replace(",", ""))


def parse_date(value: str | None, column: str) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return datetime.strptime(text, DATE_FORMAT).date()
    except ValueError:
        raise RowError(f"{column}: {text!r} is not a MM/DD/YYYY date") from None


def _statement_id(account: str, day: date) -> str:
    return f"{account}-{day:%Y%m%d}"


def _balance(cells: dict, line_number: int) -> tuple[str, date, str, Decimal]:
    try:
        account = _text(cells["Account Number"])
        day = parse_date(cells["Posting Date"], "Posting Date")
        currency = _text(cells["Currency"])
        balance = parse_amount(cells["Running Balance"], "Running Balance", signed=True)
        if not account or day is None or not currency or balance is None:
            raise RowError("Account Number, Posting Date, Currency and Running Balance are all required")
    except RowError as exc:
        raise ReportFormatError(f"balance row on line {line_number} is malformed: {exc}") from None
    return account, day, currency.upper(), balance


def _entry(cells: dict, line_number: int) -> dict:
    account = _text(cells["Account Number"])
    if account is None:
        raise RowError("Account Number is empty")
    booking = parse_date(cells["Posting Date"], "Posting Date")
    if booking is None:
        raise RowError("Posting Date is empty")
    code = _text(cells["BAI Code"])
    if code is None or not re.fullmatch(r"\d{3}", code):
        raise RowError(f"BAI Code: {code!r} is not a 3-digit BAI2 type code")
    debit = parse_amount(cells["Debit"], "Debit")
    credit = parse_amount(cells["Credit"], "Credit")
    if (debit is None) == (credit is None):
        raise RowError("exactly one of Debit and Credit must be filled, "
                       f"got Debit={cells['Debit']!r} Credit={cells['Credit']!r}")
    currency = _text(cells["Currency"])
    if currency is None or not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise RowError(f"Currency: {currency!r} is not an ISO currency code")
    reference = _text(cells["Bank Reference"])
    if reference is None:
        raise RowError("Bank Reference is empty")
    return {
        "account_id": account, "statement_id": _statement_id(account, booking), "statement_date": booking,
        "line_number": line_number, "entry_reference": reference,
        "customer_reference": _text(cells["Customer Reference"]), "booking_date": booking,
        "value_date": parse_date(cells["Value Date"], "Value Date"),
        "amount": credit if credit is not None else -debit, "currency": currency.upper(),
        "credit_debit": "CRDT" if credit is not None else "DBIT", "transaction_code": code,
        "description": _text(cells["Transaction Description"]), "counterparty": _text(cells["Counterparty Name"]),
        "running_balance": parse_amount(cells["Running Balance"], "Running Balance", signed=True),
        "file_format": "csv",
    }


def parse_statement_csv(source: str | Path | bytes) -> ParsedStatements:
    """Parse a bank CSV export (path or bytes): entries, quarantined rows and statement tie-outs."""
    reader = csv.reader(io.StringIO(read_text(source), newline=""))
    header = read_header(reader, COLUMNS, "a bank statement CSV export")

    report = ParsedStatements()
    openings: dict[str, tuple] = {}
    closings: dict[str, tuple] = {}
    entries: list[tuple[int, dict, dict]] = []
    for line_number, raw, misshapen in data_rows(reader, header):
        if misshapen:
            report.quarantined.append(QuarantinedRow(line_number, raw, misshapen))
            continue
        code = _text(raw["BAI Code"])
        if code in (OPENING_LEDGER, CLOSING_LEDGER):
            account, day, currency, balance = _balance(raw, line_number)
            seen = openings if code == OPENING_LEDGER else closings
            key = _statement_id(account, day)
            if key in seen:
                raise ReportFormatError(f"line {line_number}: a second {code} balance row for statement {key}")
            seen[key] = (account, day, currency, balance)
            continue
        try:
            entries.append((line_number, raw, _entry(raw, line_number)))
        except RowError as exc:
            report.quarantined.append(QuarantinedRow(line_number, raw, str(exc)))

    for key in sorted(openings.keys() ^ closings.keys()):
        lacking = "closing (015)" if key in openings else "opening (010)"
        raise ReportFormatError(f"statement {key} has no {lacking} balance row: it cannot be tied out")
    for key, (account, day, currency, opening) in sorted(openings.items()):
        report.statements.append(StatementSummary(account, key, day, currency, opening, closings[key][3]))

    by_statement: dict[str, list[dict]] = {}
    for line_number, raw, row in entries:
        if row["statement_id"] not in openings:
            report.quarantined.append(QuarantinedRow(line_number, raw, (
                f"no statement for account {row['account_id']} on {row['booking_date']:%m/%d/%Y} in this file "
                "(no 010/015 balance rows)")))
            continue
        by_statement.setdefault(row["statement_id"], []).append(row)
    return tie_out(report, by_statement)
