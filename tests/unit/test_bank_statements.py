"""Unit: bank statement parsers, the US bank CSV export and ISO 20022 camt.053.001.08.

No vendor fixture exists: a bank statement belongs to one account holder and banks publish none,
so the files here follow the formats as documented: the CSV layout in
connectors/bank/statement_csv.py (BAI2 codes as US banks' exports carry them) and the camt.053
message definition (ISO 20022, BankToCustomerStatementV08) as banks' usage guidelines show it.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.bank import raw_tables
from connectors.bank.camt053 import parse_camt053
from connectors.bank.statement_csv import parse_statement_csv
from connectors.bank.statement_lines import ROW_FIELDS
from connectors.report_files import ReportFormatError

HEADER = ("Account Number,Account Name,Currency,Posting Date,Value Date,BAI Code,Transaction Description,"
          "Debit,Credit,Bank Reference,Customer Reference,Counterparty Name,Running Balance\r\n")
OPENING = "483101935,RECEIPTS,USD,11/03/2026,,010,OPENING LEDGER,,,,,,\"10,000.00\"\r\n"
ENTRIES = [
    "483101935,RECEIPTS,USD,11/03/2026,11/02/2026,165,BAZAARLY INC SETTLEMENT BZ-S-20261101,,\"1,234.56\","
    "261103935000001,BZ-S-20261101,BAZAARLY INC,\"11,234.56\"\r\n",
    "483101935,RECEIPTS,USD,11/03/2026,11/03/2026,698,ACCOUNT ANALYSIS FEE,35.00,,261103935000002,,"
    "HUDSON COMMERCE BANK,\"11,199.56\"\r\n",
    "483101935,RECEIPTS,USD,11/03/2026,11/03/2026,501,BOOK TRANSFER TO 483101927,\"6,199.56\",,"
    "261103935000003,SWEEP20261103,OMNIRECON OPERATING,\"5,000.00\"\r\n",
]
CLOSING = "483101935,RECEIPTS,USD,11/03/2026,,015,CLOSING LEDGER,,,,,,\"5,000.00\"\r\n"


def bank_csv(entries=ENTRIES, closing=CLOSING, opening=OPENING) -> bytes:
    return (HEADER + opening + "".join(entries) + closing).encode()


def ntry(reference, amount, indicator, booked, valued, code, text, end_to_end="NOTPROVIDED", party=None,
         status="<Sts><Cd>BOOK</Cd></Sts>"):
    role = "Dbtr" if indicator == "CRDT" else "Cdtr"
    parties = f"<RltdPties><{role}><Pty><Nm>{party}</Nm></Pty></{role}></RltdPties>" if party else ""
    return f"""      <Ntry>
        <NtryRef>{reference}</NtryRef>
        <Amt Ccy="USD">{amount}</Amt>
        <CdtDbtInd>{indicator}</CdtDbtInd>
        {status}
        <BookgDt><Dt>{booked}</Dt></BookgDt>
        <ValDt><Dt>{valued}</Dt></ValDt>
        <AcctSvcrRef>{reference}</AcctSvcrRef>
        <BkTxCd><Prtry><Cd>{code}</Cd><Issr>BAI</Issr></Prtry></BkTxCd>
        <NtryDtls><TxDtls><Refs><EndToEndId>{end_to_end}</EndToEndId></Refs>{parties}<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls>
      </Ntry>
"""


CAMT_ENTRIES = [
    ntry("261103935000001", "1234.56", "CRDT", "2026-11-03", "2026-11-02", "165",
         "BAZAARLY INC SETTLEMENT BZ-S-20261101", "BZ-S-20261101", "BAZAARLY INC"),
    ntry("261103935000002", "35.00", "DBIT", "2026-11-03", "2026-11-03", "698", "ACCOUNT ANALYSIS FEE",
         party="HUDSON COMMERCE BANK"),
    ntry("261103935000003", "6199.56", "DBIT", "2026-11-03", "2026-11-03", "501", "BOOK TRANSFER TO 483101927",
         "SWEEP20261103", "OMNIRECON OPERATING"),
]


def balance(code, amount, indicator="CRDT", day="2026-11-03"):
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"USD\">{amount}</Amt>"
            f"<CdtDbtInd>{indicator}</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>\n")


def camt(entries=CAMT_ENTRIES, balances=None, account="<Othr><Id>483101935</Id></Othr>",
         namespace="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08") -> bytes:
    balances = balances if balances is not None else balance("OPBD", "10000.00") + balance("CLBD", "5000.00")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{namespace}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-04T06:00:00Z</CreDtTm></GrpHdr>
    <Stmt>
      <Id>483101935-20261103</Id>
      <Acct><Id>{account}</Id><Ccy>USD</Ccy></Acct>
      {balances}{"".join(entries)}    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()


FORMAT_SPECIFIC = {"line_number", "file_format", "running_balance"}


def test_csv_and_camt053_of_the_same_entries_parse_to_identical_rows():
    from_csv, from_xml = parse_statement_csv(bank_csv()), parse_camt053(camt())
    assert from_csv.quarantined == [] and from_xml.quarantined == []
    assert [set(row) for row in from_csv.rows + from_xml.rows] == [set(ROW_FIELDS)] * 6

    def common(rows):
        return [{k: v for k, v in row.items() if k not in FORMAT_SPECIFIC} for row in rows]

    assert common(from_csv.rows) == common(from_xml.rows)
    payout = from_xml.rows[0]
    assert payout == {**payout, "account_id": "483101935", "statement_id": "483101935-20261103",
                      "statement_date": date(2026, 11, 3), "entry_reference": "261103935000001",
                      "customer_reference": "BZ-S-20261101", "booking_date": date(2026, 11, 3),
                      "value_date": date(2026, 11, 2), "amount": Decimal("1234.56"), "currency": "USD",
                      "credit_debit": "CRDT", "transaction_code": "165", "counterparty": "BAZAARLY INC",
                      "description": "BAZAARLY INC SETTLEMENT BZ-S-20261101", "opening_balance": Decimal("10000.00"),
                      "closing_balance": Decimal("5000.00"), "statement_ties_out": True}
    assert [r["amount"] for r in from_csv.rows] == [Decimal("1234.56"), Decimal("-35.00"), Decimal("-6199.56")]
    assert from_xml.rows[1]["customer_reference"] is None  # NOTPROVIDED is no reference
    assert [r["running_balance"] for r in from_csv.rows] == [Decimal("11234.56"), Decimal("11199.56"),
                                                            Decimal("5000.00")]
    # line numbers are physical lines: CSV rows 3-5, and each <Ntry> tag's own line in the XML
    assert [r["line_number"] for r in from_csv.rows] == [3, 4, 5]
    xml_lines = camt().decode().splitlines()
    assert all(xml_lines[r["line_number"] - 1].strip() == "<Ntry>" for r in from_xml.rows)
    assert (from_csv.rows[0]["file_format"], from_xml.rows[0]["file_format"]) == ("csv", "camt053")


def test_a_statement_that_ties_out_and_one_that_does_not():
    good = parse_statement_csv(bank_csv())
    (summary,) = good.statements
    assert summary.ties_out and summary.difference == 0 and summary.entries == 3

    short = parse_camt053(camt(balances=balance("OPBD", "10000.00") + balance("CLBD", "5000.01")))
    assert not short.ties_out and short.statements[0].difference == Decimal("0.01")
    # the entries still load (they are real postings) but each carries the statement's failed tie-out
    assert len(short.rows) == 3 and {r["statement_ties_out"] for r in short.rows} == {False}

    overdrawn = parse_camt053(camt(entries=[], balances=balance("OPBD", "12.00", "DBIT")
                                   + balance("CLBD", "12.00", "DBIT")))
    assert overdrawn.statements[0].opening_balance == Decimal("-12.00") and overdrawn.ties_out


def test_a_statement_without_both_balances_cannot_be_read():
    with pytest.raises(ReportFormatError, match="483101935-20261103 has no closing \\(015\\) balance row"):
        parse_statement_csv(bank_csv(closing=""))
    with pytest.raises(ReportFormatError, match="balance row on line 2 is malformed: Running Balance"):
        parse_statement_csv(bank_csv(opening=OPENING.replace('"10,000.00"', "ten grand")))
    with pytest.raises(ReportFormatError, match="has no CLBD balance"):
        parse_camt053(camt(balances=balance("OPBD", "10000.00")))


def test_bad_csv_rows_are_quarantined_and_their_neighbours_parse():
    entries = list(ENTRIES)
    entries[1] = entries[1].replace(",35.00,,", ",35.00,35.00,")  # debit and credit both filled
    entries.insert(0, entries[0].replace("11/03/2026,11/02/2026", "11/31/2026,11/02/2026"))
    entries.append(ENTRIES[0].replace(",165,", ",16X,"))
    entries.append(ENTRIES[0].replace("483101935,", "999,", 1))  # an account with no statement in the file
    report = parse_statement_csv(bank_csv(entries))
    reasons = {q.line_number: q.reason for q in report.quarantined}
    assert reasons == {
        3: "Posting Date: '11/31/2026' is not a MM/DD/YYYY date",
        5: "exactly one of Debit and Credit must be filled, got Debit='35.00' Credit='35.00'",
        7: "BAI Code: '16X' is not a 3-digit BAI2 type code",
        8: "no statement for account 999 on 11/03/2026 in this file (no 010/015 balance rows)",
    }
    assert [r["line_number"] for r in report.rows] == [4, 6]
    assert not report.ties_out  # the fee row is missing from the parsed entries


def test_bad_camt_entries_are_quarantined_and_their_neighbours_parse():
    entries = [
        CAMT_ENTRIES[0].replace("<CdtDbtInd>CRDT</CdtDbtInd>", "<CdtDbtInd>CRD</CdtDbtInd>"),
        CAMT_ENTRIES[1].replace(">35.00<", ">35,00<"),
        CAMT_ENTRIES[2],
        CAMT_ENTRIES[2].replace("<Sts><Cd>BOOK</Cd></Sts>", "<Sts><Cd>PDNG</Cd></Sts>"),
        CAMT_ENTRIES[2].replace("<BookgDt><Dt>2026-11-03</Dt></BookgDt>", "<BookgDt><Dt>03.11.2026</Dt></BookgDt>"),
    ]
    report = parse_camt053(camt(entries))
    assert [q.reason for q in report.quarantined] == [
        "Ntry/CdtDbtInd: 'CRD' is neither CRDT nor DBIT",
        "Ntry/Amt: '35,00' is not an amount",
        "Ntry/Sts: 'PDNG' entry on a statement, which holds booked (BOOK) entries only",
        "Ntry/BookgDt: '03.11.2026' is not an ISO date",
    ]
    assert "<ns0:CdtDbtInd>CRD</ns0:CdtDbtInd>" in report.quarantined[0].raw
    assert [r["entry_reference"] for r in report.rows] == ["261103935000003"]


def test_camt_iban_accounts_older_versions_and_non_camt_files():
    older = camt(account="<IBAN>DE89 3704 0044 0532 0130 00</IBAN>",
                 namespace="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02",
                 entries=[CAMT_ENTRIES[0].replace("<Sts><Cd>BOOK</Cd></Sts>", "<Sts>BOOK</Sts>")
                          .replace("<Pty><Nm>BAZAARLY INC</Nm></Pty>", "<Nm>BAZAARLY INC</Nm>")],
                 balances=balance("PRCD", "10000.00") + balance("CLBD", "11234.56"))
    report = parse_camt053(older)
    assert report.quarantined == [] and report.ties_out
    assert report.rows[0]["account_id"] == "DE89370400440532013000"
    assert report.rows[0]["counterparty"] == "BAZAARLY INC"
    with pytest.raises(ReportFormatError, match="not a camt.053 document"):
        parse_camt053(camt(namespace="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"))
    with pytest.raises(ReportFormatError, match="not well-formed XML"):
        parse_camt053(b"<Document><BkToCstmrStmt>")


def test_external_entities_are_not_fetched(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    hostile = camt().replace(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                             f'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY x SYSTEM "file://{secret}">]>'.encode())
    hostile = hostile.replace(b"ACCOUNT ANALYSIS FEE", b"FEE &x;")
    # ElementTree never fetches an external entity: it is left undefined, and the file is refused
    with pytest.raises(ReportFormatError, match="undefined entity") as caught:
        parse_camt053(hostile)
    assert "TOP SECRET" not in str(caught.value)


def test_parse_file_dispatches_on_the_suffix_or_the_content(tmp_path):
    (tmp_path / "a.csv").write_bytes(bank_csv())
    (tmp_path / "b.xml").write_bytes(camt())
    (tmp_path / "c.dat").write_bytes(camt())
    (tmp_path / "d.txt").write_bytes(b"hello")
    assert raw_tables.parse_file(tmp_path / "a.csv").rows[0]["file_format"] == "csv"
    assert raw_tables.parse_file(tmp_path / "b.xml").rows[0]["file_format"] == "camt053"
    assert raw_tables.parse_file(tmp_path / "c.dat").rows[0]["file_format"] == "camt053"
    with pytest.raises(ReportFormatError, match="neither a bank CSV export nor a camt.053"):
        raw_tables.parse_file(tmp_path / "d.txt")
    assert list(raw_tables.RAW_TABLES["statement_lines"]) == list(ROW_FIELDS)
