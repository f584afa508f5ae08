"""ERP import files of posting batches: each layout's columns and values, balance in every file, and the
same batches always giving the same bytes (pure functions, no warehouse, no network)."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from connectors.erp import journal_files
from connectors.erp.journal_files import (business_central_journal_lines, generic_csv, generic_json, journal_file,
                                          netsuite_journal_csv)

BATCH_ID = "SJ-0123456789abcdef"


def _batch(batch_id: str = BATCH_ID, amount: str = "125.40", *, posting_date: str = "2026-11-02",
           payout_id: str = "po_1QxShopify") -> dict:
    return {"batch_id": batch_id, "legal_entity_id": "US01", "journal_type": "settlement", "provider": "shopify",
            "payout_id": payout_id, "posting_date": posting_date, "currency": "USD", "total_debit": amount,
            "total_credit": amount, "line_count": 2, "status": "ready",
            "lines": [{"line_number": 1, "posting_role": "bank", "account_code": "1010",
                       "description": f"Payout {payout_id} deposited to bank", "debit_amount": amount,
                       "credit_amount": "0.00", "currency": "USD"},
                      {"line_number": 2, "posting_role": "clearing", "account_code": "1150",
                       "description": f"Sales and refunds settled in payout {payout_id}", "debit_amount": "0.00",
                       "credit_amount": amount, "currency": "USD"}]}


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _dec(value: str) -> Decimal:
    return Decimal(value or "0")


def test_generic_csv_has_one_row_per_line_with_the_batch_columns():
    name, text = generic_csv(_batch())
    assert name == f"{BATCH_ID}.csv" and text.endswith("\r\n")
    header = text.split("\r\n", 1)[0].split(",")
    assert header == ["batch_id", "legal_entity_id", "journal_type", "provider", "payout_id", "posting_date",
                      "currency", "total_debit", "total_credit", "line_count", "status", "line_number",
                      "posting_role", "account_code", "description", "debit_amount", "credit_amount"]
    bank, clearing = _rows(text)
    assert {k: bank[k] for k in ("batch_id", "posting_date", "total_debit", "line_count", "status")} == {
        "batch_id": BATCH_ID, "posting_date": "2026-11-02", "total_debit": "125.40", "line_count": "2",
        "status": "ready"}
    assert (bank["line_number"], bank["account_code"], bank["debit_amount"], bank["credit_amount"]) == (
        "1", "1010", "125.40", "0.00")
    assert (clearing["posting_role"], clearing["account_code"], clearing["debit_amount"],
            clearing["credit_amount"]) == ("clearing", "1150", "0.00", "125.40")
    assert clearing["description"] == "Sales and refunds settled in payout po_1QxShopify"


def test_generic_json_is_the_batch_dict_as_the_export_has_written_it():
    batch = _batch()
    name, text = generic_json(batch)
    assert name == f"{BATCH_ID}.json"
    assert text == json.dumps(batch, indent=2, sort_keys=True) + "\n"  # byte-identical to earlier exports
    assert json.loads(text) == batch
    name, text = generic_json([_batch("SJ-b", "10.00", posting_date="2026-11-03"), _batch("SJ-a", "5.00")])
    assert [b["batch_id"] for b in json.loads(text)] == ["SJ-a", "SJ-b"]
    assert name.startswith("journal-batches-2026-11-02_2026-11-03-") and name.endswith(".json")


def test_netsuite_csv_uses_the_import_columns_and_the_batch_id_as_external_id():
    name, text = netsuite_journal_csv(_batch(), subsidiaries={"US01": "Acme Retail Inc."})
    assert name == f"{BATCH_ID}.netsuite.csv"
    assert text.split("\r\n", 1)[0] == ("External ID,Date,Subsidiary,Currency,Memo,Account,Debit,Credit,"
                                        "Line Memo,Department,Class,Location")
    bank, clearing = _rows(text)
    for row in (bank, clearing):  # header fields on every line: NetSuite groups a journal's lines by External ID
        assert (row["External ID"], row["Date"], row["Subsidiary"], row["Currency"]) == (
            BATCH_ID, "11/02/2026", "Acme Retail Inc.", "USD")
        assert row["Memo"] == f"shopify settlement payout po_1QxShopify ({BATCH_ID})"
        assert row["Department"] == row["Class"] == row["Location"] == ""
    assert (bank["Account"], bank["Debit"], bank["Credit"], bank["Line Memo"]) == (
        "1010", "125.40", "", "Payout po_1QxShopify deposited to bank")
    assert (clearing["Account"], clearing["Debit"], clearing["Credit"]) == ("1150", "", "125.40")
    _, iso = netsuite_journal_csv(_batch(), date_format="%Y-%m-%d")
    assert _rows(iso)[0]["Date"] == "2026-11-02" and _rows(iso)[0]["Subsidiary"] == "US01"


def test_business_central_lines_are_signed_gl_account_lines_of_one_document():
    name, text = business_central_journal_lines(_batch(), journal_id="dd1b6a90-44e3-ea11-bb43-000d3a2feca1")
    assert name == f"{BATCH_ID}.bc-journal-lines.json"
    assert '"amount": 125.40,' in text and '"amount": -125.40,' in text  # exact text, JSON numbers
    bank, clearing = json.loads(text, parse_float=Decimal)
    assert list(bank) == ["journalId", "lineNumber", "accountType", "accountNumber", "postingDate", "documentNumber",
                          "externalDocumentNumber", "amount", "description", "comment"]
    assert bank == {"journalId": "dd1b6a90-44e3-ea11-bb43-000d3a2feca1", "lineNumber": 10000,
                    "accountType": "G/L Account", "accountNumber": "1010", "postingDate": "2026-11-02",
                    "documentNumber": BATCH_ID, "externalDocumentNumber": "po_1QxShopify",
                    "amount": Decimal("125.40"), "description": "Payout po_1QxShopify deposited to bank",
                    "comment": f"{BATCH_ID} line 1 (bank)"}
    assert (clearing["lineNumber"], clearing["accountNumber"], clearing["amount"]) == (20000, "1150",
                                                                                        Decimal("-125.40"))
    _, without = business_central_journal_lines(_batch())
    assert "journalId" not in json.loads(without)[0]
    with pytest.raises(ValueError, match="documentNumber"):
        business_central_journal_lines(_batch("SJ-" + "f" * 20))
    with pytest.raises(ValueError, match="externalDocumentNumber"):
        business_central_journal_lines(_batch(payout_id="p" * 36))


def test_debits_equal_credits_in_every_file_of_several_batches():
    batches = [_batch("SJ-aaaa", "125.40"), _batch("SJ-bbbb", "0.01", posting_date="2026-11-03"),
               _batch("SJ-cccc", "98765.43")]
    total = Decimal("98890.84")
    rows = _rows(generic_csv(batches)[1])
    assert sum(_dec(r["debit_amount"]) for r in rows) == sum(_dec(r["credit_amount"]) for r in rows) == total
    parsed = json.loads(generic_json(batches)[1])
    assert sum(Decimal(l["debit_amount"]) for b in parsed for l in b["lines"]) == \
        sum(Decimal(l["credit_amount"]) for b in parsed for l in b["lines"]) == total
    rows = _rows(netsuite_journal_csv(batches)[1])
    for batch_id in ("SJ-aaaa", "SJ-bbbb", "SJ-cccc"):
        mine = [r for r in rows if r["External ID"] == batch_id]
        assert len(mine) == 2 and sum(_dec(r["Debit"]) for r in mine) == sum(_dec(r["Credit"]) for r in mine)
    lines = json.loads(business_central_journal_lines(batches)[1], parse_float=Decimal)
    assert [line["lineNumber"] for line in lines] == [10000 * n for n in range(1, 7)]
    for batch_id in ("SJ-aaaa", "SJ-bbbb", "SJ-cccc"):
        assert sum(l["amount"] for l in lines if l["documentNumber"] == batch_id) == 0
    assert sum(l["amount"] for l in lines if l["amount"] > 0) == total


def test_the_same_batches_give_identical_bytes_whatever_the_order():
    one, other = _batch("SJ-aaaa"), _batch("SJ-bbbb", "7.10", posting_date="2026-11-01")
    shuffled = {key: other[key] for key in reversed(list(other))}
    shuffled["lines"] = list(reversed(other["lines"]))
    for layout in journal_files.LAYOUTS:
        first = journal_file(layout, [one, other])
        assert journal_file(layout, [one, other]) == first
        assert journal_file(layout, [shuffled, one]) == first, layout  # batch and line order do not matter
        assert journal_file(layout, one) == journal_file(layout, dict(one)), layout
        assert journal_file(layout, other)[1].encode() == journal_file(layout, shuffled)[1].encode(), layout
    assert generic_csv(one)[0] != generic_csv([one, other])[0]


def test_money_is_exact_and_an_unbalanced_batch_writes_no_file():
    exact = _batch(amount="125.4")  # read exactly, written with 2 decimals
    assert _rows(generic_csv(exact)[1])[0]["debit_amount"] == "125.40"
    with_decimals = _batch()
    with_decimals["total_debit"] = with_decimals["total_credit"] = Decimal("125.40")
    with_decimals["lines"][0]["debit_amount"] = Decimal("125.40")
    assert generic_csv(with_decimals) == generic_csv(_batch())
    floats = _batch()
    floats["lines"][0]["debit_amount"] = 125.40
    with pytest.raises(TypeError, match="not float"):
        netsuite_journal_csv(floats)
    fractions = _batch(amount="125.405")
    with pytest.raises(ValueError, match="at most 2 decimals"):
        generic_json(fractions)
    unbalanced = _batch()
    unbalanced["lines"][1]["credit_amount"] = "125.39"
    for layout in journal_files.LAYOUTS:
        with pytest.raises(ValueError, match="does not balance"):
            journal_file(layout, [_batch("SJ-ok"), unbalanced])
    wrong_total = _batch()
    wrong_total["total_debit"] = "125.41"
    with pytest.raises(ValueError, match="stated totals"):
        generic_csv(wrong_total)
    both_sides = _batch()
    both_sides["lines"][0]["credit_amount"] = "1.00"
    with pytest.raises(ValueError, match="either a positive debit or a positive credit"):
        generic_csv(both_sides)
    with pytest.raises(ValueError, match="appears twice"):
        generic_csv([_batch(), _batch()])
    with pytest.raises(ValueError, match="unknown journal file layout"):
        journal_file("sap", _batch())
