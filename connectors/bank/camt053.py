"""Parser of ISO 20022 camt.053 (BankToCustomerStatement) files, version 001.08 and its neighbours.

There is no vendor sample in the fixtures (a bank statement is private to its account), so this
follows the ISO 20022 message definition of camt.053.001.08 and the usage guidelines banks
publish for it:

    Document/BkToCstmrStmt/Stmt            one statement per account and period (several per file allowed)
      Id                                   the statement id
      Acct/Id/IBAN | Acct/Id/Othr/Id       the account (US banks have no IBAN: Othr/Id, scheme BBAN)
      Bal[Tp/CdOrPrtry/Cd = OPBD | CLBD]   opening and closing booked balance: Amt@Ccy, CdtDbtInd, Dt/Dt
      Ntry                                 one booked entry
        NtryRef, AcctSvcrRef               the bank's reference of the entry
        Amt@Ccy, CdtDbtInd (CRDT | DBIT)   always a positive amount, the direction apart
        Sts/Cd (BOOK)                      .08 wraps the status in Cd; .02 wrote <Sts>BOOK</Sts>
        BookgDt/Dt | DtTm, ValDt/Dt | DtTm
        BkTxCd/Domn/Cd/Fmly/Cd/SubFmlyCd or BkTxCd/Prtry/Cd (US banks put the BAI2 code there)
        NtryDtls/TxDtls                    Refs/EndToEndId, RltdPties/Dbtr|Cdtr(/Pty)/Nm, RmtInf/Ustrd
        AddtlNtryInf                       free text, used when there is no remittance text

Namespaces are honoured (any camt.053.001.xx namespace is accepted, elements are looked up in the
document's own). Parsed with the standard library's ElementTree, which does not fetch external
entities or DTDs (and Python's expat refuses exponential entity expansion), so no defusedxml is
needed for files from the bank.

Each entry becomes the same row as a CSV export line (connectors/bank/statement_lines.py); its
line_number is the physical line of its <Ntry> tag. A malformed entry is quarantined and the
others still parse; a file that is not well-formed XML or not camt.053, or a statement without its
OPBD or CLBD balance, raises ReportFormatError.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.parsers import expat

from connectors.bank.statement_lines import ParsedStatements, StatementSummary, tie_out
from connectors.report_files import QuarantinedRow, ReportFormatError, RowError

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053."
OPENING_CODES = ("OPBD", "PRCD")  # opening booked, or the previous day's closing when OPBD is absent
CLOSING_CODES = ("CLBD",)
_AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,5})?$")


class _Find:
    """Element lookups by plain paths ('Acct/Id/IBAN') in the document's namespace."""

    def __init__(self, namespace: str):
        self.ns = {"c": namespace}

    def _path(self, path: str) -> str:
        return "/".join(f"c:{part}" for part in path.split("/"))

    def one(self, element: ET.Element, path: str) -> ET.Element | None:
        return element.find(self._path(path), self.ns)

    def all(self, element: ET.Element, path: str) -> list[ET.Element]:
        return element.findall(self._path(path), self.ns)

    def text(self, element: ET.Element, path: str) -> str | None:
        found = self.one(element, path)
        text = (found.text or "").strip() if found is not None else ""
        return text or None


def _entry_lines(data: bytes) -> list[int]:
    """The physical line of every <Ntry> start tag, in document order (ElementTree keeps none)."""
    lines: list[int] = []
    parser = expat.ParserCreate(namespace_separator="}")

    def start(name, _attributes):
        if name.rpartition("}")[2] == "Ntry":
            lines.append(parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.Parse(data, True)
    return lines


def _amount(text: str | None, where: str) -> Decimal:
    if text is None or not _AMOUNT.match(text):
        raise RowError(f"{where}: {text!r} is not an amount")
    return Decimal(text)


def _signed(element: ET.Element, find: _Find, where: str) -> tuple[Decimal, str, str]:
    """(signed amount, currency, CRDT/DBIT) of an element holding Amt@Ccy and CdtDbtInd."""
    amount_element = find.one(element, "Amt")
    if amount_element is None:
        raise RowError(f"{where}/Amt is missing")
    amount = _amount((amount_element.text or "").strip(), f"{where}/Amt")
    currency = (amount_element.get("Ccy") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise RowError(f"{where}/Amt@Ccy: {currency!r} is not an ISO currency code")
    indicator = find.text(element, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise RowError(f"{where}/CdtDbtInd: {indicator!r} is neither CRDT nor DBIT")
    return (amount if indicator == "CRDT" else -amount), currency, indicator


def _date(element: ET.Element | None, find: _Find, where: str) -> date | None:
    if element is None:
        return None
    value = find.text(element, "Dt")
    try:
        if value is not None:
            return date.fromisoformat(value)
        value = find.text(element, "DtTm")
        if value is not None:
            # a booking timestamp's own date is the bank's booking day, whatever its offset
            return datetime.fromisoformat(value).date()
    except ValueError:
        raise RowError(f"{where}: {value!r} is not an ISO date") from None
    raise RowError(f"{where} has neither Dt nor DtTm")


def _account(statement: ET.Element, find: _Find) -> str:
    account = find.text(statement, "Acct/Id/IBAN") or find.text(statement, "Acct/Id/Othr/Id")
    if account is None:
        raise ReportFormatError("a statement has no Acct/Id/IBAN nor Acct/Id/Othr/Id")
    return account.replace(" ", "")


def _balance(statement: ET.Element, find: _Find, codes: tuple[str, ...], statement_id: str
             ) -> tuple[Decimal, str, date | None]:
    balances = {find.text(b, "Tp/CdOrPrtry/Cd"): b for b in find.all(statement, "Bal")}
    code = next((c for c in codes if c in balances), None)
    if code is None:
        raise ReportFormatError(f"statement {statement_id} has no {' or '.join(codes)} balance: "
                                "it cannot be tied out")
    try:
        amount, currency, _ = _signed(balances[code], find, f"Bal[{code}]")
        return amount, currency, _date(find.one(balances[code], "Dt"), find, f"Bal[{code}]/Dt")
    except RowError as exc:
        raise ReportFormatError(f"statement {statement_id}: {exc}") from None


def _bank_transaction_code(entry: ET.Element, find: _Find) -> str | None:
    proprietary = find.text(entry, "BkTxCd/Prtry/Cd")
    if proprietary:
        return proprietary
    parts = [find.text(entry, "BkTxCd/Domn/Cd"), find.text(entry, "BkTxCd/Domn/Fmly/Cd"),
             find.text(entry, "BkTxCd/Domn/Fmly/SubFmlyCd")]
    return "/".join(p for p in parts if p) or None


def _entry(entry: ET.Element, find: _Find, account: str, statement_id: str, statement_date: date,
           line_number: int) -> dict:
    amount, currency, indicator = _signed(entry, find, "Ntry")
    status = find.text(entry, "Sts/Cd") or find.text(entry, "Sts")
    if status is not None and status != "BOOK":
        raise RowError(f"Ntry/Sts: {status!r} entry on a statement, which holds booked (BOOK) entries only")
    booking = _date(find.one(entry, "BookgDt"), find, "Ntry/BookgDt")
    if booking is None:
        raise RowError("Ntry/BookgDt is missing")
    reference = find.text(entry, "AcctSvcrRef") or find.text(entry, "NtryRef")
    if reference is None:
        raise RowError("Ntry has neither AcctSvcrRef nor NtryRef")
    details = find.one(entry, "NtryDtls/TxDtls")
    end_to_end = remittance = counterparty = None
    if details is not None:
        end_to_end = find.text(details, "Refs/EndToEndId")
        end_to_end = None if end_to_end == "NOTPROVIDED" else end_to_end
        lines = [(u.text or "").strip() for u in find.all(details, "RmtInf/Ustrd")]
        remittance = " ".join(line for line in lines if line) or None
        party = "Dbtr" if indicator == "CRDT" else "Cdtr"  # the other side of the money
        counterparty = (find.text(details, f"RltdPties/{party}/Pty/Nm")
                        or find.text(details, f"RltdPties/{party}/Nm"))
    return {
        "account_id": account, "statement_id": statement_id, "statement_date": statement_date,
        "line_number": line_number, "entry_reference": reference, "customer_reference": end_to_end,
        "booking_date": booking, "value_date": _date(find.one(entry, "ValDt"), find, "Ntry/ValDt"),
        "amount": amount, "currency": currency, "credit_debit": indicator,
        "transaction_code": _bank_transaction_code(entry, find),
        "description": remittance or find.text(entry, "AddtlNtryInf"), "counterparty": counterparty,
        "running_balance": None, "file_format": "camt053",
    }


def parse_camt053(source: str | Path | bytes) -> ParsedStatements:
    """Parse a camt.053 file (path or bytes): entries, quarantined entries and statement tie-outs."""
    data = bytes(source) if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    try:
        root = ET.fromstring(data)
        entry_lines = _entry_lines(data)
    except (ET.ParseError, expat.ExpatError) as exc:
        raise ReportFormatError(f"not well-formed XML: {exc}") from None
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if local != "Document" or not namespace.startswith(NAMESPACE_PREFIX):
        raise ReportFormatError(f"not a camt.053 document: root is {root.tag!r}")
    find = _Find(namespace)
    container = find.one(root, "BkToCstmrStmt")
    if container is None:
        raise ReportFormatError("not a camt.053 document: no BkToCstmrStmt")

    report = ParsedStatements()
    by_statement: dict[str, list[dict]] = {}
    ordinal = 0
    for statement in find.all(container, "Stmt"):
        statement_id = find.text(statement, "Id")
        if statement_id is None:
            raise ReportFormatError("a statement has no Id")
        account = _account(statement, find)
        opening, currency, _ = _balance(statement, find, OPENING_CODES, statement_id)
        closing, _, closing_date = _balance(statement, find, CLOSING_CODES, statement_id)
        if closing_date is None:
            raise ReportFormatError(f"statement {statement_id}: the CLBD balance has no Dt")
        statement_date = closing_date
        report.statements.append(StatementSummary(account, statement_id, statement_date, currency, opening, closing))
        for entry in find.all(statement, "Ntry"):
            line_number = entry_lines[ordinal] if ordinal < len(entry_lines) else ordinal + 1
            ordinal += 1
            try:
                row = _entry(entry, find, account, statement_id, statement_date, line_number)
            except RowError as exc:
                raw = ET.tostring(entry, encoding="unicode")
                report.quarantined.append(QuarantinedRow(line_number, raw, str(exc)))
                continue
            by_statement.setdefault(statement_id, []).append(row)
    if not report.statements:
        raise ReportFormatError("the camt.053 document holds no statement (Stmt)")
    return tie_out(report, by_statement)
