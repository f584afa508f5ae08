"""The Adyen simulation: daily batches rendered as Settlement details reports that parse, net and quarantine exactly."""
from __future__ import annotations

import csv
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from connectors.adyen.settlement_details import parse_settlement_details
from connectors.sandbox.channels import adyen as adyen_sim
from connectors.sandbox.world import CardPayment
from tests.psp_card_payments import world_with
from tests.vendor_fixtures import vendor_fixture


def _simulated(**options):
    world = world_with("adyen", **options)
    return world, adyen_sim.simulate(world)


def test_same_seed_same_bytes(tmp_path):
    first = adyen_sim.drop_files(_simulated()[1], tmp_path / "a")
    second = adyen_sim.drop_files(_simulated()[1], tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second] == [
        "settlement_detail_report_batch_1037.csv", "settlement_detail_report_batch_1038.csv",
        "settlement_detail_report_batch_1039.csv"]
    assert all(p.parent == tmp_path / "a" / "adyen_settlements" for p in first)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    other = adyen_sim.drop_files(adyen_sim.simulate(world_with("adyen", seed=4)), tmp_path / "c")
    assert [p.read_bytes() for p in other] != [p.read_bytes() for p in first]


def test_files_use_adyens_2025_header_exactly():
    fixture = vendor_fixture("adyen", "reports-wikimedia-smashpig", "settlement_detail_report_invoice_deduction.csv")
    with fixture.open(newline="") as handle:
        assert tuple(next(csv.reader(handle))) == adyen_sim.HEADER
    assert len(adyen_sim.HEADER) == 49


def test_every_batch_nets_to_its_merchant_payout_and_the_payout_reaches_the_bank():
    world, sandbox = _simulated()
    deposits = {d.payout_id: d for d in world.deposits if d.provider == "adyen"}
    assert len(sandbox.batches) == 3 and len(deposits) == 3
    for batch in sandbox.batches:
        *activity, payout = batch.rows
        assert payout.cells["Type"] == "MerchantPayout" and payout.malformed is None
        assert Decimal(payout.cells["Net Debit (NC)"]) == batch.payout == sum(r.net for r in activity) > 0
        kinds = Counter(r.cells["Type"] for r in activity)
        assert set(kinds) <= {"Settled", "Refunded", "Fee"} and kinds["Settled"] > 0
        for row in activity:
            if row.cells["Type"] == "Settled":
                fees = sum(Decimal(row.cells[c]) for c in ("Commission (NC)", "Markup (NC)", "Scheme Fees (NC)",
                                                           "Interchange (NC)"))
                gross, net = Decimal(row.cells["Gross Credit (GC)"]), Decimal(row.cells["Net Credit (NC)"])
                assert gross - fees == net == row.net
        deposit = deposits[f"OmniReconRetailUS_POS batch {batch.batch_number}"]
        assert (deposit.amount, deposit.currency) == (batch.payout, "USD")
        assert deposit.value_date == batch.business_day + timedelta(days=1)
        assert deposit.bank_reference.startswith("ADYEN PAYOUT TX")


def test_payments_settle_in_the_batch_of_the_next_cutoff_and_late_ones_of_the_last_day_stay_unsettled():
    world = world_with("adyen")
    pacific = ZoneInfo("America/Los_Angeles")
    late = [CardPayment("adyen", f"LATEPAYMENT00000{n}", f"POS-LATE-{n}", "pos", f"L{n}", "capture", Decimal("40.00"),
                        "USD", datetime(2026, 11, day, 19, 30, tzinfo=pacific)) for n, day in ((1, 2), (2, 4))]
    world.card_payments.extend(late)
    sandbox = adyen_sim.simulate(world)
    zone = ZoneInfo("America/New_York")
    settled = {r.cells["Merchant Reference"]: batch.business_day for batch in sandbox.batches for r in batch.rows
               if r.cells["Type"] in ("Settled", "Refunded")}
    payments = [p for p in world.card_payments if p.psp == "adyen"]
    for payment in payments:
        local = payment.at.astimezone(zone)
        batch_day = local.date() + timedelta(days=1) if local.hour >= 21 else local.date()
        if batch_day <= date(2026, 11, 4):
            assert settled[payment.merchant_reference] == batch_day
        else:
            assert payment in sandbox.unsettled and payment.merchant_reference not in settled
    # a Pacific evening sale misses that day's 21:00 New York cut-off: the next batch, or none in the window
    assert settled["POS-LATE-1"] == date(2026, 11, 3) and late[1] in sandbox.unsettled
    assert len(settled) + len(sandbox.unsettled) == len(payments)


def test_generated_files_parse_with_exactly_the_injected_rows_quarantined(tmp_path):
    world, sandbox = _simulated(malformed_rate=0.1)
    paths = adyen_sim.drop_files(sandbox, tmp_path)
    total_good = total_bad = 0
    for batch, path in zip(sandbox.batches, paths):
        report = parse_settlement_details(path)
        broken_lines = [n + 2 for n, row in enumerate(batch.rows) if row.malformed]  # header is line 1
        assert [q.line_number for q in report.quarantined] == broken_lines
        assert len(report.rows) == len(batch.rows) - len(broken_lines)
        total_good, total_bad = total_good + len(report.rows), total_bad + len(report.quarantined)
        if not broken_lines:  # a clean batch balances to zero with its payout
            assert sum(r["net_amount"] for r in report.rows) == 0
        for row in report.rows:
            assert row["batch_number"] == batch.batch_number and row["merchant_account"] == "OmniReconRetailUS_POS"
            assert row["created_at"].utcoffset().total_seconds() == 0
    assert total_bad > 0
    assert world.records["adyen"] == {"settlement_details": total_good, "_quarantine": total_bad}


def test_creation_dates_keep_the_instant_of_the_payment():
    world, sandbox = _simulated(malformed_rate=0)
    at = {p.merchant_reference: p.at for p in world.card_payments if p.psp == "adyen"}
    report = parse_settlement_details(sandbox.render(sandbox.batches[0]))
    assert report.quarantined == []
    for row in report.rows:
        if row["record_type"] == "Settled":
            assert row["created_at"] == at[row["merchant_reference"]].replace(microsecond=0)
    assert world.records["adyen"]["_quarantine"] == 0


def test_the_payout_row_uses_adyens_batch_reference():
    _, sandbox = _simulated()
    payout = sandbox.batches[0].rows[-1].cells
    assert payout["Modification Reference"].endswith(
        "XT batch 1037, OmniReconRetailUS_POS batch 1037, OmniReconRetailUS_POS")
    assert (payout["Creation Date"], payout["TimeZone"]) == ("2026-11-02 21:00:00", "EST")
    assert datetime(2026, 11, 2, 21, tzinfo=ZoneInfo("America/New_York")) == sandbox.batches[0].closed_at
