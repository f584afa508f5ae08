"""Parser of the stores' end-of-day Z report CSV (one file per store, register and business day).

Square publishes no Z report file format: the POS app prints a close-of-day summary and the store
manager's back office exports it. This is the layout the retailer's back office drops into the
`pos_z_reports/` inbox (UTF-8, comma separated, `.csv`):

    Z Report,Omnirecon Retail US Inc.          <- marker line: anything else is not a Z report
    Store,ST-NYC                               <- header block: "key,value" lines
    Location ID,L1A2B3C4D5E6F                     Store, Location ID (Square's), Register,
    Register,ST-NYC-REG01                         Business Date (the store's local day, ISO),
    Business Date,2026-11-02                      Currency are required; Z Number, Time Zone,
    Z Number,412                                  Opened At, Closed At (store-local
    Time Zone,America/New_York                    "YYYY-MM-DD HH:MM:SS") are optional
    Opened At,2026-11-02 09:00:00
    Closed At,2026-11-02 21:04:31
    Currency,USD
                                               <- blank line
    Section,Line,Count,Amount                  <- the table, one row per figure
    Sales,Gross Sales,61,1873.35                  units sold; before discounts, without tax
    Sales,Discounts,4,-41.20                      tickets discounted
    Sales,Returns,3,-96.00                        units returned; merchandise net of discount, without tax
    Sales,Net Sales,,1736.15                      Gross Sales + Discounts + Returns
    Sales,Tax,,158.12                             tax on sales less tax refunded
    Sales,Tips,2,6.00
    Sales,Total Collected,,1900.27                Net Sales + Tax + Tips = tenders + refunds
    Tenders,Card,14,1204.11                       count of tenders; amounts include tips
    Tenders,Cash,9,602.46
    Tenders,Gift Card,2,197.94
    Refunds,Card,2,-70.80                         negative: money given back
    Refunds,Cash,1,-33.44
    Refunds,Gift Card,0,0.00
    Cash Drawer,Opening Float,,200.00
    Cash Drawer,Cash Sales,,602.46
    Cash Drawer,Cash Refunds,,-33.44
    Cash Drawer,Expected,,769.02                  float + cash in - cash out
    Cash Drawer,Counted,,768.02                   what the closing count found
    Cash Drawer,Over/Short,,-1.00                 Counted - Expected
    Counts,Transactions,26,                       every ticket, sales and returns
    Counts,Sales Tickets,23,
    Counts,Return Tickets,3,

Amounts are plain decimals in the header's currency (a minus sign, a point, no thousands
separator); a Count is a whole number or empty. Sections and lines are open: a line this module
does not know is kept as it is, so a back-office upgrade that adds one loses nothing.

A row that cannot be read (wrong number of fields, no line name, a count or amount that is not a
number) is quarantined with the reason, and the other rows still parse. A file without the marker
line, without a required header key, with an unreadable business date or without the table
header cannot be read at all: ReportFormatError.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.report_files import ParsedReport, QuarantinedRow, ReportFormatError, RowError, read_text

MARKER = "Z Report"
TABLE_HEADER = ("Section", "Line", "Count", "Amount")
REQUIRED_HEADER_KEYS = ("Store", "Location ID", "Register", "Business Date", "Currency")
LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# The lines the sandbox writes and finance reads; a report may carry more.
SECTIONS: dict[str, tuple[str, ...]] = {
    "Sales": ("Gross Sales", "Discounts", "Returns", "Net Sales", "Tax", "Tips", "Total Collected"),
    "Tenders": ("Card", "Cash", "Gift Card"),
    "Refunds": ("Card", "Cash", "Gift Card"),
    "Cash Drawer": ("Opening Float", "Cash Sales", "Cash Refunds", "Expected", "Counted", "Over/Short"),
    "Counts": ("Transactions", "Sales Tickets", "Return Tickets"),
}

FILE_TABLE = "z_reports"
RAW_COLUMNS: dict[str, str] = {
    "report_line_id": "varchar", "line_number": "integer", "store_code": "varchar", "location_id": "varchar",
    "register_id": "varchar", "business_date": "date", "z_number": "varchar", "time_zone": "varchar",
    "opened_at": "timestamptz", "closed_at": "timestamptz", "currency": "varchar", "section": "varchar",
    "line_name": "varchar", "count": "integer", "amount": "numeric(18,4)",
}

_AMOUNT = re.compile(r"^-?\d+(\.\d+)?$")
_COUNT = re.compile(r"^\d+$")


@dataclass(frozen=True)
class ZReportHeader:
    store_code: str
    location_id: str
    register_id: str
    business_date: date
    currency: str
    z_number: str | None = None
    time_zone: str | None = None
    opened_at: datetime | None = None  # UTC
    closed_at: datetime | None = None  # UTC


@dataclass
class ParsedZReport(ParsedReport):
    header: ZReportHeader | None = None

    def amount(self, section: str, line: str) -> Decimal | None:
        """The amount of one line (None if the line is missing, quarantined or has no amount)."""
        return next((row["amount"] for row in self.rows if (row["section"], row["line_name"]) == (section, line)),
                    None)

    def count(self, section: str, line: str) -> int | None:
        return next((row["count"] for row in self.rows if (row["section"], row["line_name"]) == (section, line)),
                    None)


def _local_time(value: str | None, zone: ZoneInfo | None, key: str) -> datetime | None:
    if not value:
        return None
    try:
        local = datetime.strptime(value, LOCAL_TIME_FORMAT)
    except ValueError:
        raise ReportFormatError(f"header {key}: {value!r} is not a 'YYYY-MM-DD HH:MM:SS' time") from None
    if zone is None:
        raise ReportFormatError(f"header {key} is given without a Time Zone")
    return local.replace(tzinfo=zone).astimezone(timezone.utc)


def _header(fields: dict[str, str]) -> ZReportHeader:
    missing = [key for key in REQUIRED_HEADER_KEYS if not fields.get(key)]
    if missing:
        raise ReportFormatError(f"not a readable Z report: header lacks {', '.join(missing)}")
    try:
        business_date = date.fromisoformat(fields["Business Date"])
    except ValueError:
        raise ReportFormatError(f"header Business Date: {fields['Business Date']!r} is not a YYYY-MM-DD date") from None
    zone = None
    if fields.get("Time Zone"):
        try:
            zone = ZoneInfo(fields["Time Zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise ReportFormatError(f"header Time Zone: unknown time zone {fields['Time Zone']!r}") from None
    return ZReportHeader(
        store_code=fields["Store"], location_id=fields["Location ID"], register_id=fields["Register"],
        business_date=business_date, currency=fields["Currency"].upper(), z_number=fields.get("Z Number") or None,
        time_zone=fields.get("Time Zone") or None,
        opened_at=_local_time(fields.get("Opened At"), zone, "Opened At"),
        closed_at=_local_time(fields.get("Closed At"), zone, "Closed At"))


def _parse_row(cells: list[str], line_number: int, header: ZReportHeader) -> dict:
    if len(cells) != len(TABLE_HEADER):
        raise RowError(f"expected {len(TABLE_HEADER)} fields (Section,Line,Count,Amount), got {len(cells)}")
    section, line, count, amount = (cell.strip() for cell in cells)
    if not section or not line:
        raise RowError("Section or Line is empty")
    if count and not _COUNT.match(count):
        raise RowError(f"Count: {count!r} is not a whole number")
    if amount and not _AMOUNT.match(amount):
        raise RowError(f"Amount: {amount!r} is not a plain decimal amount")
    if not count and not amount:
        raise RowError("neither Count nor Amount is given")
    return {
        "report_line_id": f"{header.location_id}/{header.register_id}/{header.business_date.isoformat()}/"
                          f"{section}/{line}",
        "line_number": line_number, "store_code": header.store_code, "location_id": header.location_id,
        "register_id": header.register_id, "business_date": header.business_date, "z_number": header.z_number,
        "time_zone": header.time_zone, "opened_at": header.opened_at, "closed_at": header.closed_at,
        "currency": header.currency, "section": section, "line_name": line,
        "count": int(count) if count else None, "amount": Decimal(amount) if amount else None,
    }


def parse_z_report(source: str | Path | bytes) -> ParsedZReport:
    """Parse one Z report (path or bytes): its header, its figures, and the rows it had to quarantine."""
    reader = csv.reader(io.StringIO(read_text(source), newline=""))
    first = next(reader, None)
    if not first or first[0].strip() != MARKER:
        raise ReportFormatError(f"not a Z report: the first line does not start with {MARKER!r}")
    fields: dict[str, str] = {}
    table_header = None
    for cells in reader:
        stripped = [cell.strip() for cell in cells]
        if not any(stripped):
            continue
        if tuple(stripped) == TABLE_HEADER:
            table_header = stripped
            break
        if len(stripped) < 2:
            raise ReportFormatError(f"header line {reader.line_num} is not a 'key,value' line")
        fields[stripped[0]] = stripped[1]
    if table_header is None:
        raise ReportFormatError("not a readable Z report: no 'Section,Line,Count,Amount' table header")
    report = ParsedZReport(header=_header(fields))

    seen: set[tuple[str, str]] = set()
    next_line = reader.line_num + 1
    for cells in reader:
        line_number, next_line = next_line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        try:
            row = _parse_row(cells, line_number, report.header)
            if (row["section"], row["line_name"]) in seen:
                raise RowError(f"{row['section']} / {row['line_name']} is given twice")
        except RowError as exc:
            report.quarantined.append(QuarantinedRow(line_number, dict(zip(TABLE_HEADER, cells)) | (
                {"_extra": cells[len(TABLE_HEADER):]} if len(cells) > len(TABLE_HEADER) else {}), str(exc)))
            continue
        seen.add((row["section"], row["line_name"]))
        report.rows.append(row)
    return report
