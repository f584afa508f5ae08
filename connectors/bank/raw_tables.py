"""How bank statement files become rows of raw_bank.statement_lines (inbox folder `bank_statements/`).

Both formats the bank sends, its CSV export (the operating account) and camt.053 XML (the
receipts account), parse to one row shape, so they share one table; `file_format` says which.
The statement's opening and closing balances and its tie-out ride on every line of it (the raw
loader fills one table per dropped file, and a statement with no lines is still tied out by
the next one's opening balance in staging). A bank entry is identified by the account and the
bank's own reference for it, which the bank never reuses on an account.
"""
from __future__ import annotations

from pathlib import Path

from connectors.bank.camt053 import parse_camt053
from connectors.bank.statement_csv import parse_statement_csv
from connectors.bank.statement_lines import ParsedStatements
from connectors.report_files import ReportFormatError

SCHEMA = "raw_bank"
FILE_TABLE = "statement_lines"
INBOX_FOLDER = "bank_statements"

RAW_TABLES: dict[str, dict[str, str]] = {
    "statement_lines": {
        "account_id": "varchar", "statement_id": "varchar", "statement_date": "date", "line_number": "integer",
        "entry_reference": "varchar", "customer_reference": "varchar", "booking_date": "date",
        "value_date": "date", "amount": "numeric(18,4)", "currency": "varchar", "credit_debit": "varchar",
        "transaction_code": "varchar", "description": "varchar", "counterparty": "varchar",
        "running_balance": "numeric(18,4)", "opening_balance": "numeric(18,4)",
        "closing_balance": "numeric(18,4)", "statement_ties_out": "boolean", "file_format": "varchar",
    },
}

RECORD_KEYS: dict[str, str] = {"statement_lines": "account_id || ':' || entry_reference"}


def parse_file(path: str | Path) -> ParsedStatements:
    """A dropped statement file: .csv is the bank's CSV export, .xml camt.053 (else sniffed)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_statement_csv(path)
    if suffix == ".xml":
        return parse_camt053(path)
    head = path.read_bytes()[:256].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return parse_camt053(path)
    if head.startswith(b"Account Number"):
        return parse_statement_csv(path)
    raise ReportFormatError(f"{path.name}: neither a bank CSV export nor a camt.053 XML file")
