"""Which reversing and correcting batches a run exports, given what was exported and the marts now (pure logic),
and how those batches are written in the ERP layouts."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from decimal import Decimal

from connectors.erp.journal_files import business_central_journal_lines, generic_csv, generic_json, journal_memo
from connectors.erp.journal_push import journal_batch
from orchestration.erp_corrections import (ExportedBatch, booking_differs, canonical_json, content_sha256,
                                           latest_by_original, plan_exports)

SJ = "SJ-0123456789abcdef"


def _batch(batch_id: str = SJ, bank: str = "121.76", fees: str = "3.64", *, posting_date: str = "2026-11-02",
           **extra) -> dict:
    gross = format(Decimal(bank) + Decimal(fees), "f")
    return {"batch_id": batch_id, "legal_entity_id": "US01", "journal_type": "settlement", "provider": "shopify",
            "payout_id": "po_123", "location_id": None, "posting_date": posting_date, "currency": "USD",
            "total_debit": gross, "total_credit": gross, "line_count": 3, **extra,
            "lines": [{"line_number": 1, "posting_role": "bank", "account_code": "1010",
                       "description": "Payout po_123 deposited to bank", "debit_amount": bank,
                       "credit_amount": "0.00", "currency": "USD"},
                      {"line_number": 2, "posting_role": "clearing", "account_code": "1150",
                       "description": "Sales and refunds settled in payout po_123", "debit_amount": "0.00",
                       "credit_amount": gross, "currency": "USD"},
                      {"line_number": 3, "posting_role": "fees", "account_code": "6150",
                       "description": "Fees withheld from payout po_123", "debit_amount": fees,
                       "credit_amount": "0.00", "currency": "USD"}]}


def _original(batch: dict) -> ExportedBatch:
    return ExportedBatch(batch["batch_id"], batch["batch_id"], "original", 0, None, batch)


def _net(*contents: dict) -> dict[str, Decimal]:
    """Debit minus credit per account over the batches: what the ERP's ledger shows."""
    net: Counter = Counter()
    for content in contents:
        for line in content["lines"]:
            net[line["account_code"]] += Decimal(line["debit_amount"]) - Decimal(line["credit_amount"])
    return {account: amount for account, amount in net.items() if amount}


def test_a_new_ready_batch_is_an_original_and_an_unchanged_one_is_left_alone():
    plan = plan_exports([_original(_batch())], [_batch(), _batch("SJ-new")])
    assert [(e.batch_id, e.kind, e.correction_number) for e in plan.originals] == [("SJ-new", "original", 0)]
    assert plan.amendments == [] and plan.unchanged == [SJ] and plan.held_after_export == []


def test_a_changed_batch_is_reversed_with_sides_swapped_and_rebooked():
    plan = plan_exports([_original(_batch())], [_batch(bank="120.00", fees="5.40", posting_date="2026-11-03")])
    reversal, correction = plan.amendments
    assert (reversal.batch_id, reversal.kind, reversal.correction_number, reversal.amends_batch_id) == (
        f"{SJ}-R1", "reversal", 1, SJ)
    assert (correction.batch_id, correction.kind, correction.correction_number, correction.amends_batch_id) == (
        f"{SJ}-C1", "correction", 1, SJ)
    undone = reversal.content
    # same accounts, entity and currency, debits and credits swapped, on the reversed batch's date
    assert [(l["account_code"], l["debit_amount"], l["credit_amount"]) for l in undone["lines"]] == [
        ("1010", "0.00", "121.76"), ("1150", "125.40", "0.00"), ("6150", "0.00", "3.64")]
    assert (undone["legal_entity_id"], undone["currency"], undone["posting_date"]) == ("US01", "USD", "2026-11-02")
    assert undone["lines"][0]["description"] == f"Reversal of {SJ}: Payout po_123 deposited to bank"
    assert undone["reverses_batch_id"] == SJ and undone["total_debit"] == undone["total_credit"] == "125.40"
    rebooked = correction.content
    assert (rebooked["batch_id"], rebooked["posting_date"], rebooked["corrects_batch_id"]) == (
        f"{SJ}-C1", "2026-11-03", SJ)
    assert [l["debit_amount"] for l in rebooked["lines"]] == ["120.00", "0.00", "5.40"]
    # original + reversal + correction book what the marts say now
    assert _net(_batch(), undone, rebooked) == _net(_batch(bank="120.00", fees="5.40"))


def test_the_next_change_reverses_the_latest_correction_and_counts_on():
    first = plan_exports([_original(_batch())], [_batch(bank="120.00", fees="5.40")])
    ledger = [_original(_batch()), *first.amendments]
    assert latest_by_original(ledger)[SJ].batch_id == f"{SJ}-C1"
    assert plan_exports(ledger, [_batch(bank="120.00", fees="5.40")]).amendments == []  # nothing new: nothing
    second = plan_exports(ledger, [_batch(bank="119.00", fees="6.40")])
    reversal, correction = second.amendments
    assert (reversal.batch_id, reversal.amends_batch_id, correction.batch_id, correction.amends_batch_id) == (
        f"{SJ}-R2", f"{SJ}-C1", f"{SJ}-C2", f"{SJ}-C1")
    assert reversal.content["lines"][0]["description"] == f"Reversal of {SJ}-C1: Payout po_123 deposited to bank"
    assert [l["credit_amount"] for l in reversal.content["lines"]] == ["120.00", "0.00", "5.40"]
    chain = [_batch(), *(e.content for e in first.amendments), *(e.content for e in second.amendments)]
    assert _net(*chain) == _net(_batch(bank="119.00", fees="6.40"))


def test_a_batch_gone_from_the_marts_is_reversed_only_and_comes_back_as_a_correction():
    gone = plan_exports([_original(_batch())], [])
    assert [(e.batch_id, e.kind) for e in gone.amendments] == [(f"{SJ}-R1", "reversal")]
    ledger = [_original(_batch()), *gone.amendments]
    assert plan_exports(ledger, []).amendments == []  # reversed already: nothing in force
    back = plan_exports(ledger, [_batch(bank="100.00")])
    assert [(e.batch_id, e.kind, e.amends_batch_id) for e in back.amendments] == [(f"{SJ}-C2", "correction", SJ)]
    assert _net(_batch(), *(e.content for e in [*gone.amendments, *back.amendments])) == _net(_batch(bank="100.00"))


def test_an_exported_batch_now_blocked_is_held_after_export():
    plan = plan_exports([_original(_batch()), _original(_batch("SJ-other"))], [_batch("SJ-other")], blocked=[SJ])
    assert plan.held_after_export == [SJ] and plan.amendments == [] and plan.originals == []
    assert plan.unchanged == ["SJ-other"]


def test_wording_line_order_and_columns_the_export_lacked_are_not_corrections():
    exported = _batch()
    reworded = _batch()
    reworded["lines"] = [{**line, "description": f"{line['description']} (v2)",
                          "line_number": 4 - line["line_number"]} for line in reworded["lines"]]
    assert not booking_differs(exported, reworded)
    functional = _batch(channel_id="web", functional_currency="EUR")
    for line in functional["lines"]:
        line.update(fx_rate="0.92000000", functional_currency="EUR",
                    functional_debit_amount="1.00" if line["debit_amount"] != "0.00" else "0.00",
                    functional_credit_amount="1.00" if line["credit_amount"] != "0.00" else "0.00")
    assert not booking_differs(exported, functional)  # the marts gained columns: not a correction
    assert booking_differs(exported, _batch(posting_date="2026-11-03"))
    moved = _batch()
    moved["lines"][2]["account_code"] = "6190"
    assert booking_differs(exported, moved)
    # once both carry functional amounts, they are compared too
    refx = json.loads(json.dumps(functional))
    refx["lines"][0]["fx_rate"] = "0.93000000"
    assert booking_differs(functional, refx)


def test_functional_amounts_are_swapped_and_carried_to_the_generic_files():
    exported = _batch(functional_currency="EUR", channel_id="web")
    for line in exported["lines"]:
        line.update(fx_rate="0.50000000", functional_currency="EUR",
                    functional_debit_amount=format(Decimal(line["debit_amount"]) / 2, ".2f"),
                    functional_credit_amount=format(Decimal(line["credit_amount"]) / 2, ".2f"))
    reversal, correction = plan_exports([_original(exported)], [_batch(bank="1.00")]).amendments
    bank = reversal.content["lines"][0]
    assert (bank["functional_debit_amount"], bank["functional_credit_amount"], bank["fx_rate"]) == (
        "0.00", "60.88", "0.50000000")
    rows = list(csv.DictReader(io.StringIO(generic_csv(reversal.content)[1], newline="")))
    assert (rows[0]["channel_id"], rows[0]["functional_currency"], rows[0]["fx_rate"],
            rows[0]["functional_credit_amount"], rows[0]["reverses_batch_id"]) == ("web", "EUR", "0.50000000",
                                                                                   "60.88", SJ)
    assert json.loads(generic_json(reversal.content)[1])["lines"][0]["functional_credit_amount"] == "60.88"
    # a batch without them keeps the columns it always had
    assert "functional" not in generic_csv(_batch())[1] and "corrects_batch_id" in generic_csv(correction.content)[1]


def test_reversals_and_corrections_are_named_as_such_in_every_layout():
    reversal, correction = plan_exports([_original(_batch())], [_batch(bank="1.00")]).amendments
    assert journal_memo(reversal.content) == f"shopify settlement payout po_123 reversal of {SJ} ({SJ}-R1)"
    assert journal_memo(correction.content) == f"shopify settlement payout po_123 correction of {SJ} ({SJ}-C1)"
    body = journal_batch(reversal.content).to_json()
    assert body["batchId"] == f"{SJ}-R1" and body["lines"][0]["sourceRef"] == f"{SJ}-R1#1"
    # Business Central's Document No. holds 20 characters: the suffix stays, the comment has the full id
    lines = json.loads(business_central_journal_lines(reversal.content)[1])
    assert lines[0]["documentNumber"] == "SJ-0123456789abcd-R1"
    assert lines[0]["comment"].startswith(f"{SJ}-R1 line 1")
    assert json.loads(business_central_journal_lines(_batch())[1])[0]["documentNumber"] == SJ


def test_canonical_content_is_the_same_for_the_same_booking_whatever_the_input_types():
    as_text = _batch()
    as_decimals = _batch()
    as_decimals["total_debit"] = as_decimals["total_credit"] = Decimal("125.4")
    as_decimals["lines"] = list(reversed(as_decimals["lines"]))
    assert canonical_json(as_text) == canonical_json(as_decimals)
    assert content_sha256(as_text) == content_sha256(as_decimals) != content_sha256(_batch(bank="1.00"))
    assert json.loads(canonical_json(as_text))["lines"][0]["line_number"] == 1
