"""Unit: the mapping-driven regional marketplace settlement parser.

No vendor fixture exists for these sources: Bazaarly is the sandbox's own marketplace and a
regional marketplace's settlement CSV is only given to its sellers, so the files here are built
from the formats the mappings declare (mappings/bazaarly.yaml, mappings/nordmarkt.yaml).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from connectors.marketplace.raw_tables import source_module
from connectors.marketplace.settlement_file import (
    MappingError,
    NumberFormat,
    load_mapping,
    marketplace_names,
    parse_number,
    parse_settlement_file,
)
from connectors.report_files import ReportFormatError, RowError

BAZAARLY_HEADER = "Settlement ID,Transaction Date,Order Number,SKU,Transaction Type,Quantity,Amount,Description\r\n"
BAZAARLY_ROWS = [
    'BZ-S-20261102,2026-11-02,BZ1001,JKT-RAIN-S,Order Payment,9,"1,341.00",Order BZ1001\r\n',
    "BZ-S-20261102,2026-11-02,BZ1001,,Commission,,-160.92,Commission 12%\r\n",
    "BZ-S-20261102,2026-11-02,BZ1001,,Shipping Label,,-5.10,Label\r\n",
    'BZ-S-20261102,2026-11-02,BZ0999,JKT-RAIN-S,Refund,9,"-1,341.00",Refund BZ0999\r\n',
    "BZ-S-20261102,2026-11-02,BZ0999,,commission,,160.92,Commission refund\r\n",  # labels match case-blind
    "BZ-S-20261102,2026-11-02,,,Sponsored Listing,,-12.34,Ads\r\n",
    "BZ-S-20261102,2026-11-02,,,Adjustment,,0.01,Rounding\r\n",
    "BZ-S-20261102,2026-11-02,,,Disbursement,,-17.43,Disbursement\r\n",
]


def bazaarly(rows=BAZAARLY_ROWS) -> bytes:
    return (BAZAARLY_HEADER + "".join(rows)).encode()


def test_bazaarly_file_parses_exactly_into_canonical_rows():
    report = parse_settlement_file(bazaarly(), "bazaarly")
    assert report.quarantined == []
    assert [r["line_type"] for r in report.rows] == [
        "sale", "commission", "shipping_fee", "refund", "commission", "advertising_fee", "adjustment", "payout"]
    sale = report.rows[0]
    assert sale == {
        "marketplace": "bazaarly", "settlement_id": "BZ-S-20261102", "line_number": 2, "order_id": "BZ1001",
        "sku": "JKT-RAIN-S", "line_type": "sale", "their_line_type": "Order Payment", "quantity": 9,
        "amount": Decimal("1341.00"), "fee": None, "currency": "USD", "posted_date": date(2026, 11, 2),
        "posted_at": None, "description": "Order BZ1001"}
    assert report.rows[3]["amount"] == Decimal("-1341.00")
    assert report.rows[4]["their_line_type"] == "commission"
    # exact: the day's lines sum to the disbursement to the cent
    assert sum(r["amount"] for r in report.rows[:-1]) == report.rows[-1]["amount"] == Decimal("-17.43")
    assert [r["line_number"] for r in report.rows] == list(range(2, 10))


NORDMARKT = (
    "Abrechnungsnummer;Buchungsdatum;Bestellnummer;Artikelnummer;Buchungsart;Menge;Betrag;Gebühr;Währung;"
    "Verwendungszweck\r\n"
    "NM-7781;03.11.2026;NM-55;JKT-RAIN-S;Verkauf;10;1.490,00;178,80;EUR;Verkauf NM-55\r\n"
    "NM-7781;03.11.2026;NM-55;;Versandkosten;;4,90-;;EUR;Versand DHL\r\n"
    "NM-7781;04.11.2026;NM-41;TEE-BLK-M;Rückerstattung;1;24,00-;2,88-;EUR;Rückerstattung NM-41\r\n"
    "NM-7781;04.11.2026;;;Werbekosten;;1.234,56-;;EUR;Werbung Oktober\r\n"
    "NM-7781;05.11.2026;;;Auszahlung;;1.234,56;;EUR;Auszahlung an Händler\r\n"
).encode("cp1252")


def test_nordmarkt_reads_german_numbers_trailing_minus_and_positive_fees():
    report = parse_settlement_file(NORDMARKT, "nordmarkt")
    assert report.quarantined == []
    sale, shipping, refund, ads, payout = report.rows
    assert (sale["amount"], sale["fee"], sale["currency"]) == (Decimal("1490.00"), Decimal("-178.80"), "EUR")
    assert (sale["line_type"], sale["quantity"], sale["posted_date"]) == ("sale", 10, date(2026, 11, 3))
    assert (shipping["line_type"], shipping["amount"], shipping["fee"]) == ("shipping_fee", Decimal("-4.90"), None)
    # a refunded commission comes back: the charged-positive fee column is negated, so -2,88 becomes +2.88
    assert (refund["line_type"], refund["amount"], refund["fee"]) == ("refund", Decimal("-24.00"), Decimal("2.88"))
    assert refund["their_line_type"] == "Rückerstattung" and refund["description"] == "Rückerstattung NM-41"
    assert ads["amount"] == Decimal("-1234.56") and payout["amount"] == Decimal("1234.56")
    assert {r["marketplace"] for r in report.rows} == {"nordmarkt"}


def test_a_utf8_export_under_a_cp1252_mapping_is_refused_not_misread():
    with pytest.raises(ReportFormatError, match="header lacks Gebühr, Währung"):
        parse_settlement_file(NORDMARKT.decode("cp1252").encode("utf-8"), "nordmarkt")


THIRD_MAPPING = """
marketplace: maple_mart
currency: CAD
encoding: utf-8
delimiter: "\\t"
header_row: 3
datetime_format: "%d/%m/%Y %H:%M"
time_zone: America/Toronto
numbers: {decimal_separator: ".", thousands_separator: " ", negative: parentheses}
columns:
  settlement_id: Payout Batch
  posted_at: Booked
  order_id: Order
  line_type: Kind
  debit: Debit
  credit: Credit
  fee: Fee
line_types: {ORDER: sale, RETURN: refund, FEE: commission, PAYOUT: payout}
"""

THIRD_FILE = (
    "Maple Mart seller statement\n"
    "Generated 2026-11-05\n"
    "Payout Batch\tBooked\tOrder\tKind\tDebit\tCredit\tFee\n"
    "PB-1\t02/11/2026 23:30\tMM-1\tORDER\t\t1 234.50\t(148.14)\n"
    "PB-1\t03/11/2026 09:15\tMM-0\tRETURN\t20.00\t\t2.40\n"
    "PB-1\t03/11/2026 10:00\t\tPAYOUT\t\t1 068.76\t\n"
)


def test_a_third_marketplace_is_onboarded_by_a_mapping_file_alone(tmp_path):
    mapping_path = tmp_path / "maple_mart.yaml"
    mapping_path.write_text(THIRD_MAPPING)
    statement = tmp_path / "maple.tsv"
    statement.write_text(THIRD_FILE)

    report = parse_settlement_file(statement, mapping_path)
    assert report.quarantined == []
    sale, refund, payout = report.rows
    assert (sale["amount"], sale["fee"], sale["currency"]) == (Decimal("1234.50"), Decimal("-148.14"), "CAD")
    assert refund["amount"] == Decimal("-20.00") and refund["fee"] == Decimal("2.40")
    # 23:30 in Toronto on Nov 2 is Nov 3 in UTC, but the business date stays the marketplace's local one
    assert sale["posted_at"] == datetime(2026, 11, 3, 4, 30, tzinfo=timezone.utc)
    assert sale["posted_date"] == date(2026, 11, 2)
    assert sale["line_number"] == 4 and payout["line_number"] == 6
    assert sum(r["amount"] + (r["fee"] or 0) for r in (sale, refund)) == payout["amount"]

    module = source_module(mapping_path)  # the raw loader's module, bound to the new mapping
    assert module.parse_file(statement).rows == report.rows
    assert module.source == "marketplace_maple_mart" and module.SCHEMA == "raw_marketplace"


def test_shipped_mappings_are_found_by_name():
    assert {"bazaarly", "nordmarkt"} <= set(marketplace_names())
    assert load_mapping("bazaarly").file_columns["settlement_id"] == "Settlement ID"
    assert list(load_mapping("bazaarly").file_columns.values())[:3] == [
        "Settlement ID", "Transaction Date", "Order Number"]


@pytest.mark.parametrize(("change", "field"), [
    (lambda m: m.replace("  settlement_id: Payout Batch\n", ""), "columns.settlement_id"),
    (lambda m: m.replace("RETURN: refund", "RETURN: refundz"), "line_types.RETURN"),
    (lambda m: m.replace("header_row: 3", "header_row: 0"), "header_row"),
    (lambda m: m.replace("delimiter:", "delimeter:"), "delimeter"),
    (lambda m: m.replace("time_zone: America/Toronto", "time_zone: Mars/Olympus"), "time_zone"),
    (lambda m: m.replace("encoding: utf-8", "encoding: klingon-8"), "encoding"),
    (lambda m: m.replace("currency: CAD", "currency: Canadian dollars"), "currency"),
    (lambda m: m.replace("  debit: Debit\n", ""), "columns"),
    (lambda m: m.replace('thousands_separator: " "', 'thousands_separator: "."'), "numbers"),
])
def test_a_broken_mapping_fails_naming_the_file_and_the_field(tmp_path, change, field):
    path = tmp_path / "broken.yaml"
    path.write_text(change(THIRD_MAPPING))
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert str(path) in message and f"{field}:" in message


def test_a_missing_mapping_or_unreadable_yaml_is_a_mapping_error(tmp_path):
    with pytest.raises(MappingError, match="no such file.*bazaarly"):
        load_mapping("no_such_marketplace")
    path = tmp_path / "bad.yaml"
    path.write_text("marketplace: [unclosed\n")
    with pytest.raises(MappingError, match="cannot be read"):
        load_mapping(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(MappingError, match="expected a mapping of fields"):
        load_mapping(path)


def test_malformed_rows_are_quarantined_naming_column_and_value_and_neighbours_parse():
    rows = list(BAZAARLY_ROWS)
    rows[1] = "BZ-S-20261102,2026-11-31,BZ1001,,Commission,,-160.92,bad date\r\n"
    rows[2] = "BZ-S-20261102,2026-11-02,BZ1001,,Shipping Label,,-5.1.0,bad number\r\n"
    rows[5] = "BZ-S-20261102,2026-11-02,,,Promo Credit,,3.00,unknown type\r\n"
    rows[6] = "BZ-S-20261102,2026-11-02,,,Adjustment,,0.01,one,field,too many\r\n"
    report = parse_settlement_file(bazaarly(rows), "bazaarly")
    reasons = {q.line_number: q.reason for q in report.quarantined}
    assert set(reasons) == {3, 4, 7, 8}
    assert reasons[3] == "Transaction Date: '2026-11-31' is not a date in the format %Y-%m-%d"
    assert reasons[4].startswith("Amount: '-5.1.0' is not a number in this marketplace's format")
    assert reasons[7].startswith("Transaction Type: unknown line type 'Promo Credit'")
    assert "expected 8 fields" in reasons[8]
    assert [r["line_number"] for r in report.rows] == [2, 5, 6, 9]
    assert report.quarantined[0].raw["Transaction Date"] == "2026-11-31"


def test_a_file_without_the_mapped_columns_is_not_read():
    with pytest.raises(ReportFormatError, match="not a bazaarly settlement file: header lacks Amount"):
        parse_settlement_file(BAZAARLY_HEADER.replace("Amount", "Betrag").encode(), "bazaarly")
    with pytest.raises(ReportFormatError, match="no header on line 1"):
        parse_settlement_file(b"", "bazaarly")


US = NumberFormat(decimal_separator=".", thousands_separator=",", negative="leading_minus")
DE = NumberFormat(decimal_separator=",", thousands_separator=".", negative="trailing_minus")
PAREN = NumberFormat(decimal_separator=".", thousands_separator="", negative="parentheses")


@pytest.mark.parametrize(("text", "numbers", "expected"), [
    ("1,234.56", US, "1234.56"), ("-1,234.56", US, "-1234.56"), ("1234.56", US, "1234.56"),
    ("0.10", US, "0.10"), ("+7", US, "7"), ("1,000,000.005", US, "1000000.005"),
    ("1.234,56", DE, "1234.56"), ("1.234,56-", DE, "-1234.56"), ("-1.234,56", DE, "-1234.56"),
    ("0,01-", DE, "-0.01"), ("(1234.56)", PAREN, "-1234.56"), ("12.30", PAREN, "12.30"),
])
def test_numbers_are_read_exactly_in_every_format(text, numbers, expected):
    value = parse_number(text, "Amount", numbers)
    assert value == Decimal(expected) and str(value) == expected.lstrip("+")


@pytest.mark.parametrize(("text", "numbers"), [
    ("1.234,56", US), ("1,23.4", US), ("12.3.4", US), ("1,234.56", DE), ("abc", US), ("(12.00", PAREN),
    ("12.00-", US), ("1 234", US),
])
def test_numbers_in_another_format_are_row_errors(text, numbers):
    with pytest.raises(RowError, match=re.escape(f"Amount: '{text}' is not a number")):
        parse_number(text, "Amount", numbers)
