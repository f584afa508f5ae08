"""The stores' end-of-day Z report parser: header, figures, quarantined rows, unreadable files."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from connectors.report_files import ReportFormatError
from connectors.square.z_report import parse_z_report

HEADER = """Z Report,Omnirecon Retail US Inc.
Store,ST-SFO
Location ID,LQ7XK2M9P4R1T
Register,ST-SFO-REG01
Business Date,2026-11-02
Z Number,977
Time Zone,America/Los_Angeles
Opened At,2026-11-02 09:30:00
Closed At,2026-11-02 20:51:07
Currency,USD

Section,Line,Count,Amount
"""
GOOD_ROWS = """Sales,Gross Sales,61,1873.35
Sales,Discounts,4,-41.20
Sales,Returns,3,-96.00
Sales,Net Sales,,1736.15
Sales,Tax,,158.12
Sales,Tips,2,6.00
Sales,Total Collected,,1900.27
Tenders,Card,14,1204.11
Tenders,Cash,9,602.46
Tenders,Gift Card,2,197.94
Refunds,Card,2,-70.80
Refunds,Cash,1,-33.44
Refunds,Gift Card,0,0.00
Cash Drawer,Counted,,768.02
Counts,Transactions,26,
"""


def test_a_z_report_reads_into_its_header_and_figures():
    report = parse_z_report((HEADER + GOOD_ROWS).encode())
    header = report.header
    assert (header.store_code, header.location_id, header.register_id, header.business_date, header.currency,
            header.z_number) == ("ST-SFO", "LQ7XK2M9P4R1T", "ST-SFO-REG01", date(2026, 11, 2), "USD", "977")
    # store-local times become UTC (PST is UTC-8 on 2 November 2026)
    assert header.opened_at == datetime(2026, 11, 2, 17, 30, tzinfo=timezone.utc)
    assert header.closed_at == datetime(2026, 11, 3, 4, 51, 7, tzinfo=timezone.utc)
    assert report.quarantined == []
    assert len(report.rows) == 15
    assert report.amount("Sales", "Total Collected") == Decimal("1900.27")
    assert report.count("Sales", "Gross Sales") == 61 and report.count("Sales", "Net Sales") is None
    assert report.amount("Counts", "Transactions") is None and report.count("Counts", "Transactions") == 26
    tenders = sum(r["amount"] for r in report.rows if r["section"] in ("Tenders", "Refunds"))
    assert tenders == report.amount("Sales", "Total Collected")  # the report ties out
    first = report.rows[0]
    assert first["line_number"] == 13
    assert first["report_line_id"] == "LQ7XK2M9P4R1T/ST-SFO-REG01/2026-11-02/Sales/Gross Sales"


def test_bad_rows_are_quarantined_and_their_neighbours_still_parse():
    rows = GOOD_ROWS.splitlines()
    rows[1] = "Sales,Discounts,4,$-41.20"           # currency sign
    rows[5] = "Sales,Tips,2O,6.00"                  # letter O for a zero
    rows[8] = "Tenders,Cash,9"                      # the amount column lost
    rows[9] = "Tenders,,2,197.94"                   # no line name
    rows.append("Tenders,Card,1,1.00")              # given twice
    rows.append("Counts,Voids,,")                   # nothing to read
    rows.append("Sales,Gross Sales,61,1873.35,x")   # a field too many
    report = parse_z_report((HEADER + "\n".join(rows) + "\n").encode())
    reasons = {q.line_number: q.reason for q in report.quarantined}
    assert set(reasons) == {14, 18, 21, 22, 28, 29, 30}
    assert "not a plain decimal amount" in reasons[14] and "not a whole number" in reasons[18]
    assert "expected 4 fields" in reasons[21] and "empty" in reasons[22] and "given twice" in reasons[28]
    assert "neither Count nor Amount" in reasons[29] and "got 5" in reasons[30]
    assert report.quarantined[-1].raw["_extra"] == ["x"]
    assert len(report.rows) == 15 - 4
    assert report.amount("Sales", "Gross Sales") == Decimal("1873.35")  # the first one, not the duplicate line
    assert report.amount("Tenders", "Card") == Decimal("1204.11")


def test_an_unknown_section_or_line_is_kept_as_it_is():
    report = parse_z_report((HEADER + "Sales,Gift Cards Sold,2,50.00\nLoyalty,Points Redeemed,40,\n").encode())
    assert [(r["section"], r["line_name"], r["count"], r["amount"]) for r in report.rows] == [
        ("Sales", "Gift Cards Sold", 2, Decimal("50.00")), ("Loyalty", "Points Redeemed", 40, None)]


def test_a_byte_order_mark_and_crlf_line_ends_are_read(tmp_path):
    path = tmp_path / "z.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + GOOD_ROWS).replace("\n", "\r\n").encode())
    report = parse_z_report(path)
    assert len(report.rows) == 15 and report.header.store_code == "ST-SFO"


@pytest.mark.parametrize("text,message", [
    ("", "not a Z report"),
    ("Settlement Report,x\nStore,ST-SFO\n", "not a Z report"),
    (HEADER.replace("Location ID,LQ7XK2M9P4R1T\n", ""), "header lacks Location ID"),
    (HEADER.replace("Currency,USD\n", "Currency,\n"), "header lacks Currency"),
    (HEADER.replace("2026-11-02\n", "11/02/2026\n", 1), "Business Date"),
    (HEADER.replace("America/Los_Angeles", "Pacific/Nowhere"), "unknown time zone"),
    (HEADER.replace("2026-11-02 09:30:00", "9:30"), "Opened At"),
    (HEADER.replace("Section,Line,Count,Amount\n", "") + GOOD_ROWS, "table header"),
])
def test_a_file_that_cannot_be_read_at_all_raises(text, message):
    with pytest.raises(ReportFormatError, match=message):
        parse_z_report(text.encode())
