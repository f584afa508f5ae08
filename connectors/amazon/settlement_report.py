"""Parser of Amazon's settlement report GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2 (no Dagster, no dbt).

Tab-separated with a header row; columns are mapped by header name (promotion-id and the other
optional columns may be absent). The first data row is the settlement summary (settlement-id,
settlement-start-date, settlement-end-date, deposit-date, total-amount, currency, the rest empty);
every other row is one amount of one transaction (transaction-type, order-id, amount-type,
amount-description, signed amount, posted-date, ...).

Locale is detected per file: US files write `1234.56` and ISO dates (`2024-01-31`,
`2024-01-31 08:00:00 UTC`, `2024-01-31T08:00:00+00:00`); EU files write `1.234,56` and
`31.01.2024` / `31.01.2024 08:00:00 UTC`. The decimal separator is voted on by every amount of the
file; slash dates (`09/06/25`) are read day-first or month-first as the file's values decide (a
first part above 12 means day-first), falling back to the number locale. Both are parsed exactly:
money as Decimal, timestamps as aware UTC datetimes, posted-date as a date.

A malformed transaction row is quarantined with its reason and the others still parse; a header
lacking a required column, or a missing/malformed summary row, raises ReportFormatError.
`ties_out` says whether the parsed rows' amounts sum exactly to the stated total-amount.
The raw table these rows load into is connectors.amazon.raw_tables (settlement_report_rows).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from connectors.report_files import (
    ParsedReport,
    QuarantinedRow,
    ReportFormatError,
    RowError,
    read_text,
)

__all__ = ["ParsedReport", "QuarantinedRow", "ReportFormatError", "SettlementHeader",
           "ParsedSettlementReport", "parse_settlement_report"]

REQUIRED_COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
    "currency", "transaction-type", "order-id", "amount-type", "amount-description", "amount", "posted-date",
)
_TEXT_COLUMNS = (
    "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
    "amount-type", "amount-description", "fulfillment-id", "order-item-code", "merchant-order-item-id",
    "merchant-adjustment-item-id", "sku", "promotion-id",
)
_SUMMARY_ONLY = ("settlement-start-date", "settlement-end-date", "deposit-date", "total-amount")

@dataclass(frozen=True)
class SettlementHeader:
    settlement_id: str
    start_at: datetime
    end_at: datetime
    deposit_at: datetime | None
    total_amount: Decimal
    currency: str


@dataclass
class ParsedSettlementReport(ParsedReport):
    header: SettlementHeader | None = None
    decimal_comma: bool = False
    rows_total: Decimal = Decimal("0")
    ties_out: bool = False  # the parsed rows' amounts sum exactly to header.total_amount


# ---------------------------------------------------------------------------------------------
# Locale detection and cell parsers

_LAST_SEPARATOR = re.compile(r"[.,](\d+)$")
_AMOUNT_DOT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_AMOUNT_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_TIME = r"(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(UTC|GMT|Z|[+-]\d{2}:?\d{2})?)?"
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})" + _TIME + "$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})" + _TIME + "$")
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})" + _TIME + "$")


def _decimal_comma(amounts: list[str]) -> bool | None:
    """True if the file's amounts use a decimal comma, False for a decimal point, None if no vote."""
    comma = point = 0
    for value in amounts:
        match = _LAST_SEPARATOR.search(value)
        if match and len(match.group(1)) != 3:  # 3 digits after it could be a thousands separator
            if value[match.start()] == ",":
                comma += 1
            else:
                point += 1
    return None if comma == point == 0 else comma > point


def _day_first(dates: list[str], decimal_comma: bool) -> bool:
    for value in dates:
        match = _SLASHED.match(value)
        if match and int(match.group(1)) > 12:
            return True
        if match and int(match.group(2)) > 12:
            return False
    return decimal_comma


def parse_amount(value: str, column: str, decimal_comma: bool) -> Decimal:
    value = value.strip()
    if not value:
        raise RowError(f"{column} is empty")
    pattern, group_separator, decimal_separator = (
        (_AMOUNT_COMMA, ".", ",") if decimal_comma else (_AMOUNT_DOT, ",", "."))
    if not pattern.match(value):
        style = "1.234,56" if decimal_comma else "1,234.56"
        raise RowError(f"{column}: {value!r} is not an amount in this file's number format ({style})")
    return Decimal(value.replace(group_separator, "").replace(decimal_separator, "."))


def parse_timestamp(value: str, column: str, day_first: bool) -> datetime:
    value = value.strip()
    if match := _ISO.match(value):
        year, month, day = (int(x) for x in match.group(1, 2, 3))
    elif match := _DOTTED.match(value):
        day, month, year = (int(x) for x in match.group(1, 2, 3))
    elif match := _SLASHED.match(value):
        first, second, year = (int(x) for x in match.group(1, 2, 3))
        day, month = (first, second) if day_first else (second, first)
        year += 2000 if year < 100 else 0
    else:
        raise RowError(f"{column}: {value!r} is not a recognised date")
    hour, minute, second_, zone = match.group(4, 5, 6, 7)
    offset = timedelta(0)
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        offset = -offset if zone[0] == "-" else offset
    try:  # Amazon writes settlement times in UTC; a time without a zone is read as UTC
        return datetime(year, month, day, int(hour or 0), int(minute or 0), int(second_ or 0),
                        tzinfo=timezone(offset)).astimezone(timezone.utc)
    except ValueError as exc:
        raise RowError(f"{column}: {value!r} is not a valid date ({exc})") from None


def _posted_date(value: str, day_first: bool) -> date:
    value = value.strip()
    if not value:
        raise RowError("posted-date is empty")
    stamp = parse_timestamp(value, "posted-date", day_first)
    # a posted-date with a time is a UTC instant; a bare date is the date as written
    return stamp.date()


# ---------------------------------------------------------------------------------------------
# File


def _records(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ReportFormatError("empty file: no settlement report header") from None
    records = []
    for cells in reader:
        if any(cell.strip() for cell in cells):
            records.append((reader.line_num, cells))
    return header, records


def _parse_header_row(cells: dict[str, str], line_number: int, decimal_comma: bool, day_first: bool
                      ) -> SettlementHeader:
    try:
        settlement_id = cells["settlement-id"].strip()
        currency = cells["currency"].strip()
        if not settlement_id or not currency:
            raise RowError("settlement-id or currency is empty")
        deposit = cells["deposit-date"].strip()
        return SettlementHeader(
            settlement_id=settlement_id,
            start_at=parse_timestamp(cells["settlement-start-date"], "settlement-start-date", day_first),
            end_at=parse_timestamp(cells["settlement-end-date"], "settlement-end-date", day_first),
            deposit_at=parse_timestamp(deposit, "deposit-date", day_first) if deposit else None,
            total_amount=parse_amount(cells["total-amount"], "total-amount", decimal_comma),
            currency=currency,
        )
    except RowError as exc:
        raise ReportFormatError(f"settlement summary row (line {line_number}) is malformed: {exc}") from None


def _parse_line(cells: dict[str, str], line_number: int, header: SettlementHeader, decimal_comma: bool,
                day_first: bool) -> dict:
    settlement_id = cells["settlement-id"].strip()
    if settlement_id != header.settlement_id:
        raise RowError(f"settlement-id {settlement_id!r} differs from the report's {header.settlement_id!r}")
    currency = (cells.get("currency") or "").strip() or header.currency
    if currency != header.currency:
        raise RowError(f"currency {currency!r} differs from the report's {header.currency!r}")
    row: dict = {"line_number": line_number, "settlement_id": settlement_id}
    for column in _TEXT_COLUMNS:
        row[column.replace("-", "_")] = (cells.get(column) or "").strip() or None
    if row["transaction_type"] is None and row["amount_type"] is None:
        raise RowError("neither transaction-type nor amount-type is given")
    row["amount"] = parse_amount(cells["amount"], "amount", decimal_comma)
    row["currency"] = currency
    row["posted_date"] = _posted_date(cells["posted-date"], day_first)
    posted_time = (cells.get("posted-date-time") or "").strip()
    row["posted_at"] = parse_timestamp(posted_time, "posted-date-time", day_first) if posted_time else None
    quantity = (cells.get("quantity-purchased") or "").strip()
    if quantity and not re.fullmatch(r"[+-]?\d+", quantity):
        raise RowError(f"quantity-purchased: {quantity!r} is not an integer")
    row["quantity_purchased"] = int(quantity) if quantity else None
    return row


def parse_settlement_report(source: str | Path | bytes) -> ParsedSettlementReport:
    """Parse a V2 flat-file settlement report (path or bytes): summary header, lines, quarantine."""
    header_names, records = _records(read_text(source))
    missing = [column for column in REQUIRED_COLUMNS if column not in header_names]
    if missing:
        raise ReportFormatError(
            f"not a GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2 report: header lacks {', '.join(missing)}")
    if not records:
        raise ReportFormatError("no settlement summary row: the file has a header and no data")

    dicts = [(line, dict(zip(header_names, cells)), cells) for line, cells in records]
    vote = _decimal_comma([d.get(c, "").strip() for _, d, _ in dicts for c in ("amount", "total-amount")
                           if d.get(c, "").strip()])
    dates = [d.get(c, "").strip() for _, d, _ in dicts
             for c in ("settlement-start-date", "settlement-end-date", "deposit-date", "posted-date")]
    if vote is None:  # no amount decides: dotted dates mean an EU file
        vote = any(_DOTTED.match(value) for value in dates)
    day_first = _day_first(dates, vote)

    first_line, first, _ = dicts[0]
    if not first.get("total-amount", "").strip() or first.get("transaction-type", "").strip():
        raise ReportFormatError(f"line {first_line} is not the settlement summary row "
                                "(total-amount empty or transaction-type given)")
    header = _parse_header_row(first, first_line, vote, day_first)

    report = ParsedSettlementReport(header=header, decimal_comma=vote)
    for line_number, cells, raw_cells in dicts[1:]:
        if len(raw_cells) > len(header_names) and any(c.strip() for c in raw_cells[len(header_names):]):
            report.quarantined.append(QuarantinedRow(line_number, "\t".join(raw_cells),
                                                     f"{len(raw_cells)} fields, header has {len(header_names)}"))
            continue
        try:
            if any((cells.get(column) or "").strip() for column in _SUMMARY_ONLY):
                raise RowError("a second settlement summary row (summary columns filled on a transaction row)")
            report.rows.append(_parse_line(cells, line_number, header, vote, day_first))
        except RowError as exc:
            report.quarantined.append(QuarantinedRow(line_number, cells, str(exc)))
    report.rows_total = sum((row["amount"] for row in report.rows), Decimal("0"))
    report.ties_out = report.rows_total == header.total_amount
    return report
