"""What both bank statement parsers produce: one row shape, and a statement's tie-out.

A CSV export and a camt.053 file of the same account and day parse to the same rows, so both land
in raw_bank.statement_lines and matching never cares which format the bank sent. Amounts are
signed from the account holder's side (credit = money in = positive) and exact (Decimal).

Tie-out: a statement's opening balance plus its parsed entries must equal its closing balance.
When it does not (an entry was malformed and quarantined, or the bank's export is incomplete),
the file still loads, because its entries are real postings that matching needs, but every row
of that statement carries `statement_ties_out = false` and the difference is reported in
`ParsedStatements.statements`, so a blocking data test on staging can hold that account's
postings for the day instead of the whole load failing. A statement without an opening or
closing balance cannot be tied out at all: that file raises ReportFormatError.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from connectors.report_files import ParsedReport

# The row every statement parser returns (raw_bank.statement_lines columns, in order).
ROW_FIELDS = (
    "account_id", "statement_id", "statement_date", "line_number", "entry_reference", "customer_reference",
    "booking_date", "value_date", "amount", "currency", "credit_debit", "transaction_code", "description",
    "counterparty", "running_balance", "opening_balance", "closing_balance", "statement_ties_out", "file_format",
)


@dataclass
class StatementSummary:
    account_id: str
    statement_id: str
    statement_date: date
    currency: str
    opening_balance: Decimal
    closing_balance: Decimal
    entries_total: Decimal = Decimal("0")  # of the entries that parsed
    entries: int = 0

    @property
    def difference(self) -> Decimal:
        """What the parsed entries leave unexplained: zero when the statement ties out."""
        return self.closing_balance - self.opening_balance - self.entries_total

    @property
    def ties_out(self) -> bool:
        return self.difference == 0


@dataclass
class ParsedStatements(ParsedReport):
    statements: list[StatementSummary] = field(default_factory=list)

    @property
    def ties_out(self) -> bool:
        return all(s.ties_out for s in self.statements)


def tie_out(report: ParsedStatements, rows_by_statement: dict[str, list[dict]]) -> ParsedStatements:
    """Total each statement's parsed entries, and stamp its rows with its balances and tie-out."""
    for summary in report.statements:
        rows = rows_by_statement.get(summary.statement_id, [])
        summary.entries = len(rows)
        summary.entries_total = sum((row["amount"] for row in rows), Decimal("0"))
        for row in rows:
            row.update(opening_balance=summary.opening_balance, closing_balance=summary.closing_balance,
                       statement_ties_out=summary.ties_out)
        report.rows += rows
    report.rows.sort(key=lambda row: row["line_number"])
    return report
