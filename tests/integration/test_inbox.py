"""Dropped settlement files: each content landed once, unreadable files quarantined with a reason."""
from __future__ import annotations

import shutil

import pytest

from connectors.adyen.settlement_details import parse_settlement_details
from connectors.inbox import Inbox
from connectors.landing_zone import LandingZone
from tests.vendor_fixtures import vendor_fixture

ADYEN_REPORTS = vendor_fixture("adyen", "reports-wikimedia-smashpig")


@pytest.fixture
def inbox(tmp_path) -> Inbox:
    return Inbox(tmp_path / "inbox", LandingZone(tmp_path / "landing"))


def test_each_file_lands_once_and_an_unreadable_one_is_quarantined(inbox):
    folder = inbox.root / "adyen_settlements"
    folder.mkdir(parents=True)
    shutil.copy(ADYEN_REPORTS / "settlement_detail_report_refund.csv", folder / "day1.csv")
    shutil.copy(ADYEN_REPORTS / "settlement_detail_report_chargeback.csv", folder / "day2.csv")
    shutil.copy(ADYEN_REPORTS / "settlement_detail_report_refund.csv", folder / "day1 (copy).csv")  # dropped twice
    (folder / "notes.csv").write_text("this,is,not\nan,adyen,report\n")

    outcomes = {o.dropped.name: o for o in (inbox.take("adyen_settlements", p, parse_settlement_details, "2026-11-03")
                                            for p in inbox.pending("adyen_settlements"))}

    assert {name: o.status for name, o in outcomes.items()} == {
        "day1 (copy).csv": "landed", "day1.csv": "duplicate", "day2.csv": "landed", "notes.csv": "quarantined"}
    assert all(o.rows > 0 for o in outcomes.values() if o.status == "landed")
    assert "lacks" in outcomes["notes.csv"].reason
    assert (folder / "quarantine" / "notes.csv.reason.txt").read_text().startswith("ReportFormatError")
    landed = inbox.landing.files("adyen_settlements", "files", suffix=".csv")
    assert len(landed) == 2
    assert landed[0].read_bytes() in {(ADYEN_REPORTS / n).read_bytes() for n in (
        "settlement_detail_report_refund.csv", "settlement_detail_report_chargeback.csv")}
    assert inbox.pending("adyen_settlements") == []

    # The same content dropped again another day lands nothing new.
    shutil.copy(ADYEN_REPORTS / "settlement_detail_report_chargeback.csv", folder / "resent.csv")
    (again,) = [inbox.take("adyen_settlements", p, parse_settlement_details, "2026-11-04")
                for p in inbox.pending("adyen_settlements")]
    assert again.status == "duplicate"
    assert len(inbox.landing.files("adyen_settlements", "files", suffix=".csv")) == 2


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_landed_settlement_files_load_into_raw_tables_with_bad_rows_quarantined(inbox, tmp_path, target, request):
    from connectors.raw_load import load_landed_files
    from connectors.warehouse import connect

    folder = inbox.root / "adyen_settlements"
    folder.mkdir(parents=True)
    original = (ADYEN_REPORTS / "settlement_detail_report_donation.csv").read_text(encoding="utf-8-sig")
    header, first, *rest = original.splitlines()
    cells = first.split(",")
    gross_credit = header.split(",").index("Gross Credit (GC)")
    cells[gross_credit] = "12.3O"  # a letter O where a zero belongs
    (folder / "broken.csv").write_text("\n".join([header, ",".join(cells), *rest]) + "\n")
    shutil.copy(ADYEN_REPORTS / "settlement_detail_report_refund.csv", folder / "refund.csv")
    outcomes = [inbox.take("adyen_settlements", p, parse_settlement_details, "2026-11-03")
                for p in inbox.pending("adyen_settlements")]
    assert [o.status for o in outcomes] == ["landed", "landed"]

    dsn = str(tmp_path / "wh.duckdb") if target == "duckdb" else request.getfixturevalue("postgres_database")
    files = inbox.landing.files("adyen_settlements", "files", suffix=".csv")
    with connect(dsn) as wh:
        report = load_landed_files(wh, files, source="adyen_settlements")
        again = load_landed_files(wh, files, source="adyen_settlements")
        loaded = wh.fetchall("select count(*) from raw_adyen.settlement_details")[0][0]
        (reason,) = wh.fetchall("select reason from raw_adyen._quarantine")[0]
    expected_rows = sum(o.rows for o in outcomes)
    assert report.quarantined == 1 and loaded == expected_rows
    assert "Gross Credit" in reason
    assert again.files_skipped == 2 and again.rows_inserted == {}
