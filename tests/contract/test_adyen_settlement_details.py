"""Contract: Adyen Settlement details report CSVs (both header generations) parse exactly.

The files are Wikimedia SmashPig's anonymised real-format exports, read in place from
../shared/vendor-fixtures/adyen/reports-wikimedia-smashpig (see SOURCES.md there).
"""
from __future__ import annotations

import csv
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.adyen.settlement_details import RAW_TABLES, parse_settlement_details
from connectors.report_files import QuarantinedRow, ReportFormatError
from tests.vendor_fixtures import vendor_fixture

ADYEN = vendor_fixture("adyen", "reports-wikimedia-smashpig")

FILES = sorted(ADYEN.glob("settlement_detail_report_*.csv"))
MONEY_KEYS = ("gross_amount", "net_amount", "net_amount_bc", "balance_platform_amount", "exchange_rate",
              "commission", "markup", "scheme_fees", "interchange", "payment_fees", "dcc_markup", "gross_fees")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def parse(name: str) -> list[dict]:
    report = parse_settlement_details(ADYEN / name)
    assert report.quarantined == []
    return report.rows


def test_all_fixture_files_are_present():
    assert len(FILES) == 11


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_fixture_parses_completely_and_exactly(path):
    report = parse_settlement_details(path)
    with path.open(newline="") as handle:
        data_rows = [r for r in csv.reader(handle)][1:]
    assert report.quarantined == []
    assert len(report.rows) == len(data_rows) > 0
    for row in report.rows:
        assert set(row) == set(RAW_TABLES["settlement_details"])  # one shape whatever the layout
        assert row["created_at"].utcoffset().total_seconds() == 0
        assert row["record_type"] and isinstance(row["batch_number"], int)
        for key in MONEY_KEYS:
            assert row[key] is None or isinstance(row[key], Decimal)
        if row["gross_amount"] is not None:
            assert row["gross_currency"]
        if row["net_amount"] is not None:
            assert row["net_currency"]


def test_record_types_are_kept_as_given():
    types = {row["record_type"] for path in FILES for row in parse_settlement_details(path).rows}
    assert types == {"Settled", "Refunded", "Chargeback", "ChargebackReversed", "Fee", "MerchantPayout",
                     "DepositCorrection", "InvoiceDeduction"}


def test_settled_row_2016_layout():
    settled, payout = parse("settlement_detail_report_donation.csv")
    assert settled["psp_reference"] == "5364893193133131"
    assert settled["merchant_reference"] == "33992337.0"
    assert settled["modification_reference"] == "5555593193155555"
    assert (settled["payment_method"], settled["payment_method_variant"]) == ("visa", "visadebit")
    assert settled["record_type"] == "Settled" and settled["batch_number"] == 2
    assert settled["created_at"] == utc(2016, 2, 19, 0, 10, 51)  # 2016-02-18 16:10:51 PST
    assert (settled["gross_currency"], settled["gross_amount"]) == ("USD", Decimal("1.00"))
    assert settled["exchange_rate"] == Decimal("1")
    assert (settled["net_currency"], settled["net_amount"]) == ("USD", Decimal("0.76"))
    assert (settled["commission"], settled["markup"]) == (None, None)
    assert (settled["scheme_fees"], settled["interchange"]) == (Decimal("0.02"), Decimal("0.22"))
    assert settled["booked_at"] is None and settled["arn"] is None  # 2025-only columns
    assert payout["record_type"] == "MerchantPayout" and payout["psp_reference"] is None
    assert payout["modification_reference"] == "TX2342222277XT batch 2, WikimediaCOM batch 2, WikimediaCOM"
    assert (payout["net_currency"], payout["net_amount"], payout["gross_amount"]) == ("USD", Decimal("-0.76"), None)


def test_debits_are_negative_credits_positive():
    chargeback, fee, payout = parse("settlement_detail_report_chargeback.csv")
    assert (chargeback["gross_amount"], chargeback["net_amount"]) == (Decimal("-1.00"), Decimal("-3.00"))
    assert chargeback["commission"] == Decimal("2.00")
    assert (fee["record_type"], fee["net_amount"]) == ("Fee", Decimal("-1.80"))
    assert fee["modification_reference"] == "Transaction Fees February  2016"  # double space kept
    assert payout["net_amount"] == Decimal("-4.03")
    [reversed_] = parse("settlement_detail_report_chargeback_reversed.csv")  # no final newline, "" cells
    assert reversed_["record_type"] == "ChargebackReversed"
    assert (reversed_["gross_amount"], reversed_["net_amount"]) == (Decimal("52"), Decimal("51.89"))
    assert reversed_["markup"] == Decimal("0.11")  # written ".11"
    refunded = parse("settlement_detail_report_refund.csv")[0]
    assert (refunded["record_type"], refunded["gross_amount"], refunded["net_amount"]) == (
        "Refunded", Decimal("-1.00"), Decimal("-1.00"))


def test_cross_currency_settlement():
    settled, _ = parse("settlement_detail_report_donation-ideal.csv")
    assert (settled["gross_currency"], settled["gross_amount"]) == ("EUR", Decimal("5.35"))
    assert settled["exchange_rate"] == Decimal("1.0656568")
    assert (settled["net_currency"], settled["net_amount"], settled["commission"]) == (
        "USD", Decimal("5.43"), Decimal("0.27"))
    assert settled["created_at"] == utc(2020, 2, 23, 20, 14, 4)


def test_time_zone_label_of_each_row_is_applied():
    settled, payout = parse("settlement_detail_report_donation-ach.csv")  # 31 columns
    assert settled["company_account"] == "WikimediaFoundation"
    assert settled["merchant_reference"] == "206543313.1" and settled["payment_method"] == "ach"
    # a June row labelled PST is read as UTC-8, the next one labelled PDT as UTC-7
    assert (settled["created_time_zone"], settled["created_at"]) == ("PST", utc(2024, 6, 4, 18, 20, 40))
    assert (payout["created_time_zone"], payout["created_at"]) == ("PDT", utc(2024, 6, 6, 22, 17, 57))
    assert settled["exchange_rate"] == Decimal("1.000000000000000")


def test_2025_layout_columns():
    [settled] = parse("settlement_detail_report_emptynetcredit.csv")
    assert settled["psp_reference"] == "FVD6HH297FKD7K69"
    assert (settled["gross_currency"], settled["gross_amount"]) == ("INR", Decimal("10"))
    assert (settled["net_currency"], settled["net_amount"]) == ("USD", Decimal("-0.03"))  # fees exceed gross
    assert settled["commission"] is None and settled["markup"] == Decimal("0")
    assert (settled["scheme_fees"], settled["interchange"], settled["payment_fees"]) == (
        Decimal("0.04"), Decimal("0.1"), Decimal("0.14"))
    assert (settled["balance_currency"], settled["net_amount_bc"]) == ("INR", Decimal("10"))
    assert settled["created_at"] == utc(2025, 10, 31, 11, 5, 39)
    assert settled["booked_at"] == utc(2025, 10, 31, 18, 9, 55)
    assert settled["arn"] == "1.2302025304E+022"  # spreadsheet-mangled in the source, kept as text
    assert settled["funds_destination"] == "BalancePlatform" and settled["settlement_flow"] == "US_Adyen"
    assert settled["metadata"].startswith('{"gr4vy_intent":"authorize"')
    first, second = parse("settlement_detail_report_deposit_correction.csv")
    assert (first["record_type"], first["net_amount"], first["psp_reference"]) == (
        "DepositCorrection", Decimal("-500"), None)
    assert (first["gross_currency"], first["gross_amount"]) == (None, None)  # "" cells
    assert second["net_amount"] == Decimal("300") and second["batch_number"] == 1191
    deduction, credit = parse("settlement_detail_report_invoice_deduction.csv")
    assert deduction["record_type"] == "InvoiceDeduction"
    assert (deduction["net_amount"], credit["net_amount"]) == (Decimal("-0.06"), Decimal("0.03"))


def test_reordered_file_gives_the_same_rows_as_its_twin():
    ordered = parse("settlement_detail_report_donation.csv")
    reordered = parse("settlement_detail_report_donation_reordered.csv")
    assert reordered == ordered


def test_bytes_and_path_give_the_same_report():
    path = ADYEN / "settlement_detail_report_refund.csv"
    assert parse_settlement_details(path.read_bytes()) == parse_settlement_details(path)
    assert parse_settlement_details(b"\xef\xbb\xbf" + path.read_bytes()) == parse_settlement_details(path)


def _rewrite(source: Path, target: Path, edit) -> Path:
    with source.open(newline="") as handle:
        rows = list(csv.reader(handle))
    edit(rows)
    with target.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return target


def test_a_bad_amount_quarantines_exactly_that_row(tmp_path):
    source = ADYEN / "settlement_detail_report_refund.csv"

    def corrupt(rows):
        rows[2][rows[0].index("Net Debit (NC)")] = "1.8O"  # the Fee row, letter O for zero

    report = parse_settlement_details(_rewrite(source, tmp_path / "corrupt.csv", corrupt))
    [bad] = report.quarantined
    assert isinstance(bad, QuarantinedRow) and bad.line_number == 3
    assert bad.reason == "Net Debit (NC): '1.8O' is not a decimal amount"
    assert bad.raw["Type"] == "Fee" and bad.raw["Net Debit (NC)"] == "1.8O"
    good = parse_settlement_details(source).rows
    assert report.rows == [good[0], good[2]]
    assert [row["line_number"] for row in report.rows] == [2, 4]


def test_bad_time_zone_and_short_row_are_quarantined(tmp_path):
    def corrupt(rows):
        rows[1][rows[0].index("TimeZone")] = "XYZ"
        rows[2] = rows[2][:10]

    report = parse_settlement_details(_rewrite(ADYEN / "settlement_detail_report_chargeback.csv",
                                               tmp_path / "c.csv", corrupt))
    assert [(q.line_number, q.reason) for q in report.quarantined] == [
        (2, "TimeZone: unknown time zone 'XYZ'"), (3, "expected 30 fields as in the header, got 10")]
    assert [row["record_type"] for row in report.rows] == ["MerchantPayout"]


def test_wrong_header_raises_naming_the_missing_columns(tmp_path):
    def drop(rows):
        index = rows[0].index("TimeZone")
        for row in rows:
            del row[index]

    path = _rewrite(ADYEN / "settlement_detail_report_donation.csv", tmp_path / "no_tz.csv", drop)
    with pytest.raises(ReportFormatError, match="header lacks TimeZone"):
        parse_settlement_details(path)
    with pytest.raises(ReportFormatError, match="Psp Reference"):
        parse_settlement_details(b"Company Account,Merchant Account\nA,B\n")
    with pytest.raises(ReportFormatError, match="empty file"):
        parse_settlement_details(b"")
