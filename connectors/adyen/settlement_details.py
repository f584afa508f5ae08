"""Parser of Adyen's "Settlement details report" CSV (no Dagster, no dbt).

Two header generations are in use: the 2016 layout (30 columns, sometimes 31 with Merchant Order
Reference) and the 2025 layout (49 columns: Booking Date, Balance Currency, Net Debit/Credit (BC),
Payment Fees (NC), Funds Destination, Dispute Reference, ARN, Settlement Flow, Gross Fees (NC), ...).
Column order is not fixed, so cells are always mapped by header name. Every row dict has the same
keys whatever the layout (None where the layout lacks the column).

Amounts: Gross and Net come split into Debit and Credit columns; a row's signed amount is
credit - debit (positive = money to the merchant). Fee columns (Commission, Markup, Scheme Fees,
Interchange, Payment Fees, DCC Markup, Gross Fees) are kept as reported: positive = charged to the
merchant. Timestamps: each row names its own time zone (TimeZone, Booking Date TimeZone) as an
abbreviation such as PST/PDT; the abbreviation is taken literally as a fixed UTC offset (Adyen labels
some summer rows PST, so the label, not the calendar, defines the offset), and converted to UTC.

A malformed row goes to `quarantined` with the reason; the rows around it still parse. A file
whose header lacks a required column raises ReportFormatError naming the missing columns.

The result types and the header and row reading every report parser shares are in
connectors/report_files.py.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.report_files import ParsedReport, RowError, parse_data_rows, read_header, read_text

SCHEMA = "raw_adyen"


# ---------------------------------------------------------------------------------------------
# Columns

REQUIRED_COLUMNS = (
    "Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
    "Creation Date", "TimeZone", "Type", "Modification Reference", "Gross Currency",
    "Gross Debit (GC)", "Gross Credit (GC)", "Exchange Rate", "Net Currency", "Net Debit (NC)",
    "Net Credit (NC)", "Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)",
    "Batch Number",
)

# report column -> row key, for plain text cells ("" and empty -> None)
_TEXT_COLUMNS = {
    "Company Account": "company_account", "Merchant Account": "merchant_account",
    "Psp Reference": "psp_reference", "Merchant Reference": "merchant_reference",
    "Payment Method": "payment_method", "Payment Method Variant": "payment_method_variant",
    "Type": "record_type", "Modification Reference": "modification_reference",
    "Modification Merchant Reference": "modification_merchant_reference",
    "Gross Currency": "gross_currency", "Net Currency": "net_currency",
    "Balance Currency": "balance_currency", "Merchant Order Reference": "merchant_order_reference",
    "Dispute Reference": "dispute_reference", "ARN": "arn", "Settlement Flow": "settlement_flow",
    "Funds Destination": "funds_destination", "Shopper Country": "shopper_country",
    "Clearing Network": "clearing_network", "Authorisation Code": "authorisation_code",
    "Metadata": "metadata",
}
# signed amount key -> (debit column, credit column, currency key)
_SPLIT_AMOUNTS = {
    "gross_amount": ("Gross Debit (GC)", "Gross Credit (GC)", "gross_currency"),
    "net_amount": ("Net Debit (NC)", "Net Credit (NC)", "net_currency"),
    "net_amount_bc": ("Net Debit (BC)", "Net Credit (BC)", "balance_currency"),
    "balance_platform_amount": ("Balance Platform Debit", "Balance Platform Credit", None),
}
# fee columns, in net currency, as reported (positive = charged to the merchant)
_FEE_COLUMNS = {
    "Commission (NC)": "commission", "Markup (NC)": "markup", "Scheme Fees (NC)": "scheme_fees",
    "Interchange (NC)": "interchange", "Payment Fees (NC)": "payment_fees",
    "DCC Markup (NC)": "dcc_markup", "Gross Fees (NC)": "gross_fees",
}

RAW_TABLES: dict[str, dict[str, str]] = {
    "settlement_details": {
        "line_number": "integer", "batch_number": "integer", "record_type": "varchar",
        "company_account": "varchar", "merchant_account": "varchar", "psp_reference": "varchar",
        "merchant_reference": "varchar", "payment_method": "varchar", "payment_method_variant": "varchar",
        "modification_reference": "varchar", "modification_merchant_reference": "varchar",
        "created_at": "timestamptz", "created_time_zone": "varchar", "booked_at": "timestamptz",
        "booked_time_zone": "varchar", "gross_currency": "varchar", "gross_amount": "decimal(18,6)",
        "exchange_rate": "decimal(28,15)", "net_currency": "varchar", "net_amount": "decimal(18,6)",
        **{key: "decimal(18,6)" for key in _FEE_COLUMNS.values()},
        "balance_currency": "varchar", "net_amount_bc": "decimal(18,6)",
        "balance_platform_amount": "decimal(18,6)",
        **{key: "varchar" for col, key in _TEXT_COLUMNS.items() if col not in (
            "Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
            "Payment Method Variant", "Type", "Modification Reference", "Modification Merchant Reference",
            "Gross Currency", "Net Currency", "Balance Currency")},
    },
}

# A settlement detail row is one line of one batch of one merchant account.
RECORD_KEYS: dict[str, str] = {
    "settlement_details": "merchant_account || '/' || cast(batch_number as varchar) || '/' || cast(line_number as varchar)"}

# ---------------------------------------------------------------------------------------------
# Cell parsers

_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_TZ_ABBREVIATIONS = {  # unambiguous abbreviations only
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5, "EST": -5, "EDT": -4,
    "AKST": -9, "AKDT": -8, "HST": -10, "JST": 9, "SGT": 8, "HKT": 8, "AEST": 10, "AEDT": 11,
}
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$")


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def parse_decimal(value: str | None, column: str) -> Decimal | None:
    value = _text(value)
    if value is None:
        return None
    if not _DECIMAL.match(value):
        raise RowError(f"{column}: {value!r} is not a decimal amount")
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the regex guards this
        raise RowError(f"{column}: {value!r} is not a decimal amount") from exc


def time_zone(name: str | None, column: str) -> timezone | ZoneInfo:
    name = _text(name)
    if name is None:
        raise RowError(f"{column} is empty")
    if name.upper() in _TZ_ABBREVIATIONS:
        return timezone(timedelta(hours=_TZ_ABBREVIATIONS[name.upper()]), name.upper())
    match = _OFFSET.match(name)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-delta if sign == "-" else delta)
    if "/" in name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise RowError(f"{column}: unknown time zone {name!r}")


def parse_local_timestamp(value: str | None, zone_name: str | None, column: str, zone_column: str
                          ) -> datetime | None:
    value = _text(value)
    if value is None:
        return None
    try:
        local = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise RowError(f"{column}: {value!r} is not a 'YYYY-MM-DD HH:MM:SS' timestamp") from exc
    return local.replace(tzinfo=time_zone(zone_name, zone_column)).astimezone(timezone.utc)


# ---------------------------------------------------------------------------------------------
# Rows


def _parse_row(cells: dict[str, str], line_number: int) -> dict:
    get = cells.get
    row: dict = {"line_number": line_number}
    for column, key in _TEXT_COLUMNS.items():
        row[key] = _text(get(column))
    if row["record_type"] is None:
        raise RowError("Type is empty")

    batch = _text(get("Batch Number"))
    if batch is not None and not batch.isdigit():
        raise RowError(f"Batch Number: {batch!r} is not an integer")
    row["batch_number"] = int(batch) if batch is not None else None

    row["created_at"] = parse_local_timestamp(get("Creation Date"), get("TimeZone"), "Creation Date", "TimeZone")
    if row["created_at"] is None:
        raise RowError("Creation Date is empty")
    row["created_time_zone"] = _text(get("TimeZone"))
    row["booked_at"] = parse_local_timestamp(get("Booking Date"), get("Booking Date TimeZone"),
                                             "Booking Date", "Booking Date TimeZone")
    row["booked_time_zone"] = _text(get("Booking Date TimeZone"))

    for key, (debit_column, credit_column, currency_key) in _SPLIT_AMOUNTS.items():
        debit = parse_decimal(get(debit_column), debit_column)
        credit = parse_decimal(get(credit_column), credit_column)
        amount = None if debit is None and credit is None else (credit or Decimal(0)) - (debit or Decimal(0))
        if amount is not None and currency_key is not None and row[currency_key] is None:
            raise RowError(f"{debit_column}/{credit_column} given without a currency")
        row[key] = amount
    row["exchange_rate"] = parse_decimal(get("Exchange Rate"), "Exchange Rate")
    for column, key in _FEE_COLUMNS.items():
        row[key] = parse_decimal(get(column), column)
    return row


def parse_settlement_details(source: str | Path | bytes) -> ParsedReport:
    """Parse an Adyen Settlement details report (path or bytes) into rows and quarantined rows."""
    reader = csv.reader(io.StringIO(read_text(source), newline=""))
    header = read_header(reader, REQUIRED_COLUMNS, "an Adyen Settlement details report")
    return parse_data_rows(reader, header, _parse_row)


# How the raw loader reads a landed settlement details file (connectors/raw_load.py).
FILE_TABLE = "settlement_details"
parse_file = parse_settlement_details
