"""The 3PL's daily inventory snapshot CSV: states by header name, local business date, bad rows quarantined."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from connectors.report_files import ReportFormatError
from connectors.wms.snapshot_file import parse_snapshot

HEADER = ("snapshot_at,warehouse_code,sku,description,on_hand,available,committed,damaged,quality_control,"
          "in_transit,incoming,lot_number,expiry_date,uom")


def _file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def test_a_good_file_parses_every_state_and_the_local_business_date():
    parsed = parse_snapshot(_file(
        "2026-11-02T23:59:59-08:00,ST-SFO,TEE-BLK-M,Organic tee black M,40,31,4,2,3,12,0,L-77,2027-01-01,EA",
        "2026-11-02T23:59:59-08:00,ST-SFO,CAP-NVY,,0,0,0,0,0,0,0,,,EA"))
    assert parsed.quarantined == []
    first, second = parsed.rows
    # 23:59:59 in San Francisco is already the next day in UTC: the business date stays the local one
    assert first["snapshot_at"] == datetime(2026, 11, 3, 7, 59, 59, tzinfo=timezone.utc)
    assert first["business_date"] == date(2026, 11, 2)
    assert {k: first[k] for k in ("location", "sku", "on_hand", "available", "committed", "damaged",
                                  "quality_control", "in_transit", "incoming", "line_number")} == {
        "location": "ST-SFO", "sku": "TEE-BLK-M", "on_hand": 40, "available": 31, "committed": 4, "damaged": 2,
        "quality_control": 3, "in_transit": 12, "incoming": 0, "line_number": 2}
    assert second["on_hand"] == 0 and second["line_number"] == 3
    assert "lot_number" not in first and "description" not in first


def test_columns_are_mapped_by_name_in_any_order_and_a_bom_is_tolerated():
    header = "sku,warehouse_code,snapshot_at,incoming,in_transit,quality_control,damaged,committed,available,on_hand"
    data = b"\xef\xbb\xbf" + _file("HOOD-GRY-M,WH-NJ,2026-11-02T23:59:59-05:00,96,0,48,1,5,400,454", header=header)
    (row,) = parse_snapshot(data).rows
    assert (row["sku"], row["location"], row["on_hand"], row["available"], row["incoming"]) == (
        "HOOD-GRY-M", "WH-NJ", 454, 400, 96)


@pytest.mark.parametrize("bad_row, reason", [
    ("2026-11-02T23:59:59-05:00,WH-NJ,TEE-BLK-M,,-3,0,0,0,0,0,0,,,EA", "on_hand: -3 is negative"),
    ("2026-11-02T23:59:59-05:00,WH-NJ,TEE-BLK-M,,10,9.5,0,0,0,0,0,,,EA", "available: '9.5' is not a whole number"),
    ("2026-11-02T23:59:59-05:00,WH-NJ,TEE-BLK-M,,10,10,n/a,0,0,0,0,,,EA", "committed: 'n/a' is not a whole number"),
    ("2026-11-02T23:59:59-05:00,WH-NJ,TEE-BLK-M,,10,10,0,,0,0,0,,,EA", "damaged is empty"),
    ("2026-11-02T23:59:59-05:00,WH-NJ,,,10,10,0,0,0,0,0,,,EA", "sku is empty"),
    ("2026-11-02T23:59:59-05:00,,TEE-BLK-M,,10,10,0,0,0,0,0,,,EA", "warehouse_code is empty"),
    ("2026-11-02 23:59:59,WH-NJ,TEE-BLK-M,,10,10,0,0,0,0,0,,,EA", "has no UTC offset"),
    ("yesterday,WH-NJ,TEE-BLK-M,,10,10,0,0,0,0,0,,,EA", "is not an ISO 8601 timestamp"),
    ("2026-11-02T23:59:59-05:00,WH-NJ,TEE-BLK-M,,10,10,0,0,0,0,0", "expected 14 fields as in the header, got 11"),
])
def test_a_bad_row_is_quarantined_with_its_reason_and_its_neighbours_parse(bad_row, reason):
    good = "2026-11-02T23:59:59-05:00,WH-NJ,{sku},,10,10,0,0,0,0,0,,,EA"
    parsed = parse_snapshot(_file(good.format(sku="CAP-NVY"), bad_row, good.format(sku="BAG-TOTE")))
    assert [row["sku"] for row in parsed.rows] == ["CAP-NVY", "BAG-TOTE"]
    (bad,) = parsed.quarantined
    assert bad.line_number == 3
    assert reason in bad.reason


def test_a_file_without_the_required_columns_cannot_be_read():
    with pytest.raises(ReportFormatError, match="quality_control, in_transit, incoming"):
        parse_snapshot(_file("2026-11-02T23:59:59-05:00,WH-NJ,CAP-NVY,5,5,0,0",
                             header="snapshot_at,warehouse_code,sku,on_hand,available,committed,damaged"))
    with pytest.raises(ReportFormatError, match="empty file"):
        parse_snapshot(b"")
