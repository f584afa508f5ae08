"""Parser of the 3PL's daily inventory snapshot CSV, one file per location and business day.

The 3PL drops `inventory_snapshot_<location>_<YYYYMMDD>.csv` into the inbox folder `wms_snapshots/`
after its end-of-day cut-off (23:59:59 in the location's time zone). One row per SKU:

    snapshot_at,warehouse_code,sku,description,on_hand,available,committed,damaged,quality_control,in_transit,incoming,lot_number,expiry_date,uom
    2026-11-02T23:59:59-05:00,WH-NJ,TEE-BLK-M,Organic tee black M,412,398,6,2,6,0,120,,,EA

The quantity states follow Shopify's inventory state names so that ATS can line them up:
- on_hand: units physically at the location, whatever their state;
- available: sellable now = on_hand - committed - damaged - quality_control (the 3PL may hold other
  states, e.g. safety stock, so the identity is not enforced here: dbt tests it);
- committed: allocated to open orders, picked or not, not shipped yet;
- damaged / quality_control: on hand but on hold (damage found, inbound QC inspection);
- in_transit: sent to this location by a transfer, not received yet (not in on_hand);
- incoming: on open purchase orders, not received yet (not in on_hand).

Quirks: `snapshot_at` carries the location's local offset, and its local date is the business date
of the snapshot; quantities are whole units (each, "EA"), never negative; lot_number, expiry_date,
description and uom are informational and ignored (lot-level detail stays in the file, the
landing zone keeps it). Columns are mapped by header name, in any order.

A malformed row (negative, fractional or non-numeric quantity, missing SKU or location, bad
timestamp) is quarantined with its reason and its neighbours still parse; a file that lacks one
of the required columns, or is empty, raises ReportFormatError.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from pathlib import Path

from connectors.report_files import ParsedReport, RowError, parse_data_rows, read_header, read_text

INBOX_FOLDER = "wms_snapshots"
QUANTITY_COLUMNS = ("on_hand", "available", "committed", "damaged", "quality_control", "in_transit", "incoming")
REQUIRED_COLUMNS = ("snapshot_at", "warehouse_code", "sku", *QUANTITY_COLUMNS)
_WHOLE_UNITS = re.compile(r"^[+-]?\d+$")

# raw_wms.inventory_snapshots (connectors/wms/raw_tables.py)
COLUMNS: dict[str, str] = {
    "snapshot_at": "timestamptz", "business_date": "date", "location": "varchar", "sku": "varchar",
    **{column: "integer" for column in QUANTITY_COLUMNS}, "line_number": "integer",
}


def file_name(location: str, business_date) -> str:
    return f"inventory_snapshot_{location}_{business_date:%Y%m%d}.csv"


def _quantity(value: str | None, column: str) -> int:
    value = (value or "").strip()
    if not value:
        raise RowError(f"{column} is empty")
    if not _WHOLE_UNITS.match(value):
        raise RowError(f"{column}: {value!r} is not a whole number of units")
    quantity = int(value)
    if quantity < 0:
        raise RowError(f"{column}: {quantity} is negative")
    return quantity


def _snapshot_at(value: str | None) -> datetime:
    value = (value or "").strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"snapshot_at: {value!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise RowError(f"snapshot_at: {value!r} has no UTC offset")
    return moment


def _parse_row(cells: dict[str, str], line_number: int) -> dict:
    location = (cells.get("warehouse_code") or "").strip()
    sku = (cells.get("sku") or "").strip()
    if not location:
        raise RowError("warehouse_code is empty")
    if not sku:
        raise RowError("sku is empty")
    local = _snapshot_at(cells.get("snapshot_at"))
    row = {"snapshot_at": local.astimezone(timezone.utc), "business_date": local.date(), "location": location,
           "sku": sku}
    for column in QUANTITY_COLUMNS:
        row[column] = _quantity(cells.get(column), column)
    row["line_number"] = line_number
    return row


def parse_snapshot(source: str | Path | bytes) -> ParsedReport:
    """Rows of one snapshot file (path or bytes); bad rows in `quarantined` with their reason."""
    reader = csv.reader(io.StringIO(read_text(source), newline=""))
    header = read_header(reader, REQUIRED_COLUMNS, "a WMS inventory snapshot", lower=True)
    return parse_data_rows(reader, header, _parse_row)
