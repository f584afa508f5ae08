"""Unit: Amazon GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2 parser.

No vendor sample of this report exists (see ../shared/vendor-fixtures/SOURCES.md), so the files are
built here from the documented columns (settlement_report_v2_columns.json): the same logical
settlement written the US way (ISO dates, 1234.56) and the EU way (dd.mm.yyyy, 1.234,56).
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from connectors.amazon.settlement_report import (
    ReportFormatError,
    SettlementHeader,
    parse_settlement_report,
)
from tests.vendor_fixtures import vendor_fixture

COLUMNS = json.loads(vendor_fixture("amazon-sp-api", "settlement_report_v2_columns.json").read_text())["columns"]

SID = "11740912345"
# (transaction-type, order-id, adjustment-id, amount-type, amount-description, amount, posted y-m-d, time, sku, qty)
LINES = [
    ("Order", "028-1111111-1111111", "", "ItemPrice", "Principal", "1500.00", (2024, 2, 1), (10, 11, 12), "SKU-1", "1"),
    ("Order", "028-1111111-1111111", "", "ItemPrice", "Tax", "285.00", (2024, 2, 1), (10, 11, 12), "SKU-1", "1"),
    ("Order", "028-1111111-1111111", "", "ItemFees", "Commission", "-225.00", (2024, 2, 1), (10, 11, 12), "SKU-1", "1"),
    ("Order", "028-1111111-1111111", "", "ItemFees", "FBAPerUnitFulfillmentFee", "-3.44", (2024, 2, 1),
     (10, 11, 12), "SKU-1", "1"),
    ("Refund", "028-2222222-2222222", "amzn1.adj.1", "ItemPrice", "Principal", "-300.00", (2024, 2, 9), (23, 59, 59),
     "SKU-2", ""),
    ("Refund", "028-2222222-2222222", "amzn1.adj.1", "ItemFees", "RefundCommission", "5.00", (2024, 2, 9),
     (23, 59, 59), "SKU-2", ""),
    ("other-transaction", "", "", "other-transaction", "Current Reserve Amount", "-27.00", (2024, 2, 14),
     (8, 0, 0), "", ""),
]
TOTAL = "1234.56"  # the sum of LINES


def us_amount(value: str) -> str:
    return value


def eu_amount(value: str) -> str:
    sign, digits = ("-", value[1:]) if value.startswith("-") else ("", value)
    whole, cents = digits.split(".")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    return sign + ".".join([whole, *groups]) + "," + cents


def us_date(d, t=None) -> str:
    text = "%04d-%02d-%02d" % d
    return text + (" %02d:%02d:%02d UTC" % t if t else "")


def eu_date(d, t=None) -> str:
    text = "%02d.%02d.%04d" % (d[2], d[1], d[0])
    return text + (" %02d:%02d:%02d UTC" % t if t else "")


def build(amount=us_amount, when=us_date, overrides: dict[int, dict] | None = None, columns=COLUMNS) -> bytes:
    summary = {"settlement-id": SID, "settlement-start-date": when((2024, 1, 31), (8, 0, 0)),
               "settlement-end-date": when((2024, 2, 14), (8, 0, 0)), "deposit-date": when((2024, 2, 16), (8, 0, 0)),
               "total-amount": amount(TOTAL), "currency": "EUR"}
    records = [summary]
    for ttype, order, adj, atype, desc, value, posted, time_, sku, qty in LINES:
        records.append({
            "settlement-id": SID, "transaction-type": ttype, "order-id": order, "adjustment-id": adj,
            "marketplace-name": "Amazon.de" if order else "", "amount-type": atype, "amount-description": desc,
            "amount": amount(value), "posted-date": when(posted), "posted-date-time": when(posted, time_),
            "sku": sku, "quantity-purchased": qty, "merchant-adjustment-item-id": "",
        })
    for index, changes in (overrides or {}).items():
        records[index].update(changes)
    text = "\t".join(columns) + "\r\n"
    text += "".join("\t".join(record.get(c, "") for c in columns) + "\r\n" for record in records)
    return text.encode()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_us_file_parses_exactly():
    report = parse_settlement_report(build())
    assert report.quarantined == []
    assert report.header == SettlementHeader(
        settlement_id=SID, start_at=utc(2024, 1, 31, 8), end_at=utc(2024, 2, 14, 8), deposit_at=utc(2024, 2, 16, 8),
        total_amount=Decimal("1234.56"), currency="EUR")
    assert report.decimal_comma is False
    assert len(report.rows) == len(LINES)
    first = report.rows[0]
    assert first == {
        "line_number": 3, "settlement_id": SID, "transaction_type": "Order", "order_id": "028-1111111-1111111",
        "merchant_order_id": None, "adjustment_id": None, "shipment_id": None, "marketplace_name": "Amazon.de",
        "amount_type": "ItemPrice", "amount_description": "Principal", "fulfillment_id": None,
        "order_item_code": None, "merchant_order_item_id": None, "merchant_adjustment_item_id": None,
        "sku": "SKU-1", "promotion_id": None, "amount": Decimal("1500.00"), "currency": "EUR",
        "posted_date": date(2024, 2, 1), "posted_at": utc(2024, 2, 1, 10, 11, 12), "quantity_purchased": 1,
    }
    assert [row["amount"] for row in report.rows] == [Decimal(line[5]) for line in LINES]
    assert all(isinstance(row["amount"], Decimal) for row in report.rows)
    assert report.rows[-1]["order_id"] is None and report.rows[-1]["quantity_purchased"] is None
    assert report.rows_total == Decimal("1234.56") and report.ties_out is True


def test_eu_file_gives_identical_rows():
    us, eu = parse_settlement_report(build()), parse_settlement_report(build(eu_amount, eu_date))
    assert build(eu_amount, eu_date).count(b"1.500,00") == 1 and b"31.01.2024 08:00:00 UTC" in build(eu_amount, eu_date)
    assert eu.decimal_comma is True
    assert eu.quarantined == []
    assert eu.header == us.header
    assert eu.rows == us.rows
    assert eu.ties_out is True


def test_path_input_and_iso_t_timestamps(tmp_path):
    def iso(d, t=None):
        return "%04d-%02d-%02d" % d + ("T%02d:%02d:%02d+00:00" % t if t else "")

    path = tmp_path / "settlement.txt"
    path.write_bytes(build(when=iso))
    report = parse_settlement_report(path)
    assert report.rows == parse_settlement_report(build()).rows and report.ties_out


def test_slash_dates_are_read_day_first_when_the_file_says_so():
    def slash(d, t=None):
        return "%02d/%02d/%02d" % (d[2], d[1], d[0] % 100) + (" %02d:%02d:%02d UTC" % t if t else "")

    report = parse_settlement_report(build(when=slash))  # 31/01/24 reveals day-first
    assert report.quarantined == [] and report.header.start_at == utc(2024, 1, 31, 8)
    assert report.rows == parse_settlement_report(build()).rows


def test_malformed_amount_is_quarantined_and_the_rest_parsed():
    report = parse_settlement_report(build(eu_amount, eu_date, overrides={3: {"amount": "-225,0O"}}))
    [bad] = report.quarantined
    assert bad.line_number == 5  # header line 1, summary line 2, third transaction line
    assert bad.reason == "amount: '-225,0O' is not an amount in this file's number format (1.234,56)"
    assert bad.raw["amount-description"] == "Commission" and bad.raw["amount"] == "-225,0O"
    good = parse_settlement_report(build()).rows
    assert report.rows == good[:2] + good[3:]
    assert report.rows_total == Decimal("1459.56")
    assert report.ties_out is False


def test_other_malformed_rows_are_quarantined_with_reasons():
    report = parse_settlement_report(build(overrides={
        1: {"posted-date": "2024-02-30"}, 2: {"settlement-id": "999"}, 5: {"quantity-purchased": "two"},
        6: {"amount": "1,2,3.00"}}))
    assert [(q.line_number, q.reason) for q in report.quarantined] == [
        (3, "posted-date: '2024-02-30' is not a valid date (day is out of range for month)"),
        (4, f"settlement-id '999' differs from the report's '{SID}'"),
        (7, "quantity-purchased: 'two' is not an integer"),
        (8, "amount: '1,2,3.00' is not an amount in this file's number format (1,234.56)"),
    ]
    assert len(report.rows) == len(LINES) - 4 and not report.ties_out


def test_optional_columns_may_be_missing_and_reordered():
    columns = [c for c in COLUMNS if c not in ("promotion-id", "posted-date-time", "shipment-id")][::-1]
    report = parse_settlement_report(build(eu_amount, eu_date, columns=columns))
    assert report.quarantined == [] and report.ties_out
    assert [row["posted_at"] for row in report.rows] == [None] * len(LINES)
    assert report.rows[0]["amount"] == Decimal("1500.00")


def test_wrong_header_raises_naming_what_is_missing():
    columns = [c for c in COLUMNS if c not in ("amount", "posted-date")]
    with pytest.raises(ReportFormatError, match="header lacks amount, posted-date"):
        parse_settlement_report(build(columns=columns))
    with pytest.raises(ReportFormatError, match="empty file"):
        parse_settlement_report(b"")
    with pytest.raises(ReportFormatError, match="no settlement summary row"):
        parse_settlement_report(("\t".join(COLUMNS) + "\n").encode())


def test_missing_or_malformed_summary_row_raises():
    with pytest.raises(ReportFormatError, match="total-amount: 'lots'"):
        parse_settlement_report(build(overrides={0: {"total-amount": "lots"}}))
    with pytest.raises(ReportFormatError, match="not the settlement summary row"):
        parse_settlement_report(build(overrides={0: {"total-amount": ""}}))
