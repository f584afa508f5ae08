"""Parse Stripe's itemized payout reconciliation / balance change CSV reports.

Stripe's report types (payout_reconciliation.itemized.*, balance_change_from_activity.itemized.*,
the "settlement" exports built on them) share column names but not column order, and include
optional columns (payment_metadata[<key>], customer_* ...) depending on the report run's
`columns` parameter. So columns are mapped by header name, never by position.

Amounts (gross, fee, net, customer_facing_amount) are decimal strings in major units ("24.05",
"-0.5", "1780.11"); they are read as exact Decimals and also given as integer minor units with
the currency's Stripe exponent. Times are "YYYY-MM-DD HH:MM:SS" in the report run's time zone
(UTC unless the run asked otherwise) and become aware UTC datetimes. Currencies are upper-cased.

A line that cannot be trusted is quarantined with its line number and reason, and the rest of
the file goes on: a missing balance transaction id, an amount or time that does not parse, a
currency that is not three letters, more decimals than the currency has, net != gross - fee, a
balance transaction id seen earlier in the file, or a line with more or fewer fields than the
header. A file without the required columns cannot be read at all: ReportFormatError.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from connectors.report_files import ReportFormatError
from connectors.stripe.models import to_minor

REQUIRED_COLUMNS = ("balance_transaction_id", "created", "currency", "gross", "fee", "net", "reporting_category")
TIME_COLUMNS = ("created", "available_on", "automatic_payout_effective_at")
TEXT_COLUMNS = ("reporting_category", "source_id", "charge_id", "payment_intent_id", "automatic_payout_id",
                "description", "payment_method_type", "card_brand", "card_country", "card_funding",
                "trace_id_status", "gateway_account")
METADATA_COLUMN = re.compile(r"^payment_metadata\[(.+)\]$")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


@dataclass(frozen=True)
class ReportRow:
    line_number: int  # 1-based physical line of the CSV (the header is line 1)
    balance_transaction_id: str
    created: datetime
    available_on: datetime | None
    automatic_payout_effective_at: datetime | None
    currency: str
    gross: Decimal
    fee: Decimal
    net: Decimal
    gross_minor: int
    fee_minor: int
    net_minor: int
    reporting_category: str | None
    source_id: str | None = None
    charge_id: str | None = None
    payment_intent_id: str | None = None
    automatic_payout_id: str | None = None
    description: str | None = None
    payment_method_type: str | None = None
    card_brand: str | None = None
    card_country: str | None = None
    card_funding: str | None = None
    trace_id_status: str | None = None
    gateway_account: str | None = None
    customer_facing_amount: Decimal | None = None
    customer_facing_currency: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QuarantinedLine:
    line_number: int
    reason: str
    raw: dict[str, str | None]


@dataclass
class ReportParseResult:
    rows: list[ReportRow]
    quarantined: list[QuarantinedLine]
    columns: list[str]


class _BadLine(Exception):
    pass


def _decimal(column: str, value: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise _BadLine(f"{column} {value!r} is not a decimal number") from None
    if not number.is_finite():
        raise _BadLine(f"{column} {value!r} is not a finite number")
    return number


def _time(column: str, value: str, tz: tzinfo) -> datetime:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=tz).astimezone(timezone.utc)
        except ValueError:
            continue
    raise _BadLine(f"{column} {value!r} is not a time (YYYY-MM-DD HH:MM:SS)")


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _row(line_number: int, raw: dict[str, str], tz: tzinfo) -> ReportRow:
    txn_id = _text(raw.get("balance_transaction_id"))
    if txn_id is None:
        raise _BadLine("balance_transaction_id is empty")
    currency = (_text(raw.get("currency")) or "").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise _BadLine(f"currency {raw.get('currency')!r} is not a three-letter code")
    if not _text(raw.get("created")):
        raise _BadLine("created is empty")
    amounts = {}
    for column in ("gross", "fee", "net"):
        if not _text(raw.get(column)):
            raise _BadLine(f"{column} is empty")
        amounts[column] = _decimal(column, raw[column])
    if amounts["gross"] - amounts["fee"] != amounts["net"]:
        raise _BadLine(f"net {raw['net']} is not gross {raw['gross']} minus fee {raw['fee']}")
    minor = {}
    for column, amount in amounts.items():
        try:
            minor[column] = to_minor(amount, currency)
        except ValueError as error:
            raise _BadLine(f"{column}: {error}") from None
    times = {c: _time(c, raw[c], tz) if _text(raw.get(c)) else None for c in TIME_COLUMNS}
    facing = _text(raw.get("customer_facing_amount"))
    facing_currency = _text(raw.get("customer_facing_currency"))
    metadata = {}
    for column, value in raw.items():
        found = METADATA_COLUMN.match(column or "")
        if found and _text(value):
            metadata[found.group(1)] = value.strip()
    return ReportRow(
        line_number=line_number, balance_transaction_id=txn_id, created=times["created"],
        available_on=times["available_on"], automatic_payout_effective_at=times["automatic_payout_effective_at"],
        currency=currency, gross=amounts["gross"], fee=amounts["fee"], net=amounts["net"],
        gross_minor=minor["gross"], fee_minor=minor["fee"], net_minor=minor["net"],
        customer_facing_amount=_decimal("customer_facing_amount", facing) if facing else None,
        customer_facing_currency=facing_currency.upper() if facing_currency else None,
        metadata=metadata, **{c: _text(raw.get(c)) for c in TEXT_COLUMNS},
    )


def parse_report(source: str | Path | TextIO, *, tz: tzinfo = timezone.utc) -> ReportParseResult:
    """Read one itemized report CSV (a path, or an open text stream) into rows and quarantined lines."""
    if isinstance(source, (str, Path)):
        with open(source, newline="", encoding="utf-8-sig") as handle:
            return _parse(handle, tz)
    return _parse(source, tz)


def parse_report_text(text: str, *, tz: tzinfo = timezone.utc) -> ReportParseResult:
    return _parse(io.StringIO(text.lstrip("\ufeff")), tz)


def _parse(handle: TextIO, tz: tzinfo) -> ReportParseResult:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise ReportFormatError("the report is empty (no header line)")
    columns = [c.strip() for c in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ReportFormatError(f"the report lacks required columns: {', '.join(missing)}")
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise ReportFormatError(f"the report repeats columns: {', '.join(duplicated)}")
    rows: list[ReportRow] = []
    quarantined: list[QuarantinedLine] = []
    seen: dict[str, int] = {}
    while True:
        line_number = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            quarantined.append(QuarantinedLine(line_number, f"unreadable CSV: {error}", {}))
            continue
        if not values or all(not v.strip() for v in values):
            continue  # blank line
        raw = dict(zip(columns, values))
        try:
            if len(values) != len(columns):
                raise _BadLine(f"{len(values)} fields where the header has {len(columns)}")
            row = _row(line_number, raw, tz)
            if row.balance_transaction_id in seen:
                raise _BadLine(f"balance_transaction_id {row.balance_transaction_id} repeats line "
                               f"{seen[row.balance_transaction_id]}")
        except _BadLine as bad:
            quarantined.append(QuarantinedLine(line_number, str(bad), raw))
            continue
        seen[row.balance_transaction_id] = line_number
        rows.append(row)
    return ReportParseResult(rows=rows, quarantined=quarantined, columns=columns)


parse_payout_reconciliation_report = parse_report
