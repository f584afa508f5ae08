"""Posting batches as ERP import files: a generic CSV and JSON, NetSuite's journal entry CSV import and
Business Central's general journal lines JSON.

    name, text = netsuite_journal_csv(batch)            # one batch ...
    name, text = netsuite_journal_csv([batch, other])   # ... or several in one file
    path.write_text(text)                               # the caller chooses the folder

Each function is pure and takes one batch or a list of batches, the shape of marts.posting_batches
with its marts.journal_lines:

    {batch_id, legal_entity_id, journal_type, provider, payout_id, posting_date (ISO), currency,
     total_debit, total_credit, line_count, status,
     lines: [{line_number, posting_role, account_code, description, debit_amount, credit_amount, currency}]}

(optionally with channel_id, functional_currency, fx_rate, functional_debit_amount and
functional_credit_amount, and reverses_batch_id / corrects_batch_id on a reversal or correction; see
OPTIONAL_COLUMNS) and returns (file name, text). Money is exact: amounts are read as Decimal from
strings (or Decimal or int), never from floats (a float is a TypeError), must have at most 2 decimals
(more is a ValueError, never rounded) and are written with exactly 2. The same batches give the same
bytes: batches are
written in (posting date, batch id) order and lines in line number order, whatever order they came
in, and nothing depends on the clock. A file is written only for batches that balance: every line
has either a debit or a credit, the lines' debits equal their credits and the batch's stated totals,
and `line_count` is the number of lines; anything else is a ValueError, so no layout can carry an
unbalanced journal to the ERP.

File names are the batch id for one batch (`SJ-0123456789abcdef.netsuite.csv`); for several,
`journal-batches-<first posting date>_<last posting date>-<12 hex of the batch ids' sha256>` with the
same suffixes, so a file's name changes exactly when the set of batches in it does.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

Batch = Mapping[str, Any]
Batches = Batch | Sequence[Batch]

CENT = Decimal("0.01")
ZERO = Decimal("0")

BATCH_COLUMNS = ("batch_id", "legal_entity_id", "journal_type", "provider", "payout_id", "posting_date",
                 "currency", "total_debit", "total_credit", "line_count", "status")
LINE_COLUMNS = ("line_number", "posting_role", "account_code", "description", "debit_amount", "credit_amount",
                "currency")
# Columns a batch or line may carry besides those above (functional currency, the sales channel, and what a
# reversal or correction amends): written where a layout has a place for them, only when present, so the
# files of a batch without them keep their bytes.
OPTIONAL_COLUMNS = ("channel_id", "functional_currency", "fx_rate", "functional_debit_amount",
                    "functional_credit_amount", "reverses_batch_id", "corrects_batch_id")
MONEY_KEYS = frozenset({"total_debit", "total_credit", "debit_amount", "credit_amount", "functional_debit_amount",
                        "functional_credit_amount"})

GENERIC_CSV_COLUMNS = (*BATCH_COLUMNS, *LINE_COLUMNS[:-1])

NETSUITE_COLUMNS = ("External ID", "Date", "Subsidiary", "Currency", "Memo", "Account", "Debit", "Credit",
                    "Line Memo", "Department", "Class", "Location")
NETSUITE_DATE_FORMAT = "%m/%d/%Y"  # NetSuite's default date preference (M/D/YYYY); match your account's

BC_ACCOUNT_TYPE = "G/L Account"
BC_LINE_NUMBER_STEP = 10000  # Business Central numbers journal lines 10000, 20000, ...
BC_DOCUMENT_NUMBER_MAX = 20
BC_EXTERNAL_DOCUMENT_NUMBER_MAX = 35
BC_DESCRIPTION_MAX = 100


# ---- layouts -------------------------------------------------------------------------------------
def generic_csv(batches: Batches) -> tuple[str, str]:
    """One row per journal line, each row carrying its batch's columns (omnirecon's own layout).

    Columns: the batch columns of marts.posting_batches (batch_id ... line_count, status) then the line
    columns of marts.journal_lines (line_number, posting_role, account_code, description, debit_amount,
    credit_amount); the line currency is the batch's (checked) so it is not repeated. Then, only when some
    batch or line of the file carries them, the OPTIONAL_COLUMNS it carries (channel_id,
    functional_currency, fx_rate, functional_debit_amount, functional_credit_amount, reverses_batch_id,
    corrects_batch_id), each from the line, else from its batch. RFC 4180 CSV (comma, double quotes where
    needed, CRLF), UTF-8, one header row.
    """
    checked = _checked_all(batches)
    carried = {key for batch in checked for record in (batch, *batch["lines"]) for key in record}
    extra = [column for column in OPTIONAL_COLUMNS if column in carried]
    rows = [[_cell(batch, column) for column in BATCH_COLUMNS] +
            [_cell(line, column) for column in LINE_COLUMNS[:-1]] +
            [_cell(line if column in line else batch, column) for column in extra]
            for batch in checked for line in batch["lines"]]
    return _file_name(checked, "", "csv"), _csv_text((*GENERIC_CSV_COLUMNS, *extra), rows)


def generic_json(batches: Batches) -> tuple[str, str]:
    """The batch dict itself as JSON (a list of them for several batches): what omnirecon exported so far.

    Keys are those of the batch as given (snake_case, as in marts.posting_batches / marts.journal_lines),
    sorted, indented by 2, money as 2-decimal strings, ending in a newline: for the same dict the bytes
    are those orchestration/defs/finance/erp_export.py has been writing, so earlier exports still compare
    equal.
    """
    checked = _checked_all(batches)
    payload: Any = checked[0] if isinstance(batches, Mapping) else checked
    return _file_name(checked, "", "json"), json.dumps(payload, indent=2, sort_keys=True) + "\n"


def netsuite_journal_csv(batches: Batches, *, date_format: str = NETSUITE_DATE_FORMAT,
                         subsidiaries: Mapping[str, str] | None = None) -> tuple[str, str]:
    """NetSuite's journal entry CSV import (Setup > Import/Export > Import CSV Records > Transactions >
    Journal Entry), one row per journal line.

    Column headers are NetSuite's field labels, from Oracle's NetSuite help "Journal Entry and
    Intercompany Journal Entry Header Fields Table" (External ID, Date, Subsidiary, Currency, Memo) and
    "... Line-Level Fields Table" (Account, Debit, Credit, Memo, Department, Class, Location). Header and
    line both have a Memo, so the line's column is "Line Memo", as NetSuite import templates name it; in
    the Import Assistant's field mapping it goes to Journal Entry - Line: Memo (save the mapping once).
    - External ID is the batch id on every line of the batch: NetSuite groups the lines of one journal
      entry by it, and an Add import refuses an External ID that already exists, so importing the same
      file twice cannot post twice;
    - Date in the account's date format preference (`date_format`, M/D/YYYY by default);
    - Subsidiary (OneWorld): `subsidiaries[legal_entity_id]` when given, else the legal entity id;
    - Account is the account number (valid when "Use Account Numbers" is on; NetSuite also accepts
      "number name" there);
    - Debit / Credit: the amount on its side, the other side left empty (at most 10 + 2 digits);
    - Memo is the journal's (provider, journal type, payout, batch), Line Memo the line description;
    - Department, Class, Location stay empty: settlement lines carry no such dimension today, but the
      columns are there so a saved import mapping does not change when they do.
    """
    checked = _checked_all(batches)
    rows = []
    for batch in checked:
        posted_on = date.fromisoformat(batch["posting_date"]).strftime(date_format)
        subsidiary = (subsidiaries or {}).get(batch["legal_entity_id"], batch["legal_entity_id"])
        for line in batch["lines"]:
            debit, credit = Decimal(line["debit_amount"]), Decimal(line["credit_amount"])
            if debit.copy_abs() >= Decimal("1e10") or credit.copy_abs() >= Decimal("1e10"):
                raise ValueError(f"batch {batch['batch_id']} line {line['line_number']}: NetSuite takes at most "
                                 f"10 digits before the decimal point")
            rows.append([batch["batch_id"], posted_on, subsidiary, batch["currency"], journal_memo(batch),
                         line["account_code"], line["debit_amount"] if debit else "",
                         line["credit_amount"] if credit else "", line["description"] or "", "", "", ""])
    return _file_name(checked, ".netsuite", "csv"), _csv_text(NETSUITE_COLUMNS, rows)


def business_central_journal_lines(batches: Batches, *, journal_id: str | None = None) -> tuple[str, str]:
    """Business Central general journal lines (API v2.0 `journalLine` resource), a JSON array of line objects
    ready to POST one by one to .../api/v2.0/companies({id})/journals({journalId})/journalLines.

    Property names from Microsoft's "journalLine resource type" (Business Central API v2.0):
    - journalId: the general journal's GUID, only when `journal_id` is given (the POST URL names the
      journal, so the line body does not need it);
    - lineNumber: 10000, 20000, ... across the whole file, as Business Central numbers lines;
    - accountType "G/L Account", accountNumber the account code;
    - postingDate ISO; documentNumber the batch id (max 20 characters: every line of a batch shares it,
      so the journal posts each batch as one balanced document; a reversal or correction `<id>-R<n>` /
      `<id>-C<n>` longer than that keeps its suffix and as much of the original id as fits, and the
      comment carries its full id); externalDocumentNumber the payout id (max 35);
    - amount signed, debit positive and credit negative, written as a JSON number with its exact
      2-decimal text (never through a float), so each document's amounts sum to zero;
    - description the line description (max 100, cut there), comment points back at the
      batch line it came from (batch id, line number, posting role).
    A batch or payout id too long for its field is a ValueError rather than a truncated reference.
    """
    checked = _checked_all(batches)
    lines: list[dict] = []
    for batch in checked:
        document_number = bc_document_number(batch["batch_id"])
        for field, value, limit in (("documentNumber (batch id)", document_number, BC_DOCUMENT_NUMBER_MAX),
                                    ("externalDocumentNumber (payout id)", batch["payout_id"] or "",
                                     BC_EXTERNAL_DOCUMENT_NUMBER_MAX)):
            if len(value) > limit:
                raise ValueError(f"batch {batch['batch_id']}: {field} {value!r} is longer than Business "
                                 f"Central's {limit} characters")
        for line in batch["lines"]:
            amount = Decimal(line["debit_amount"]) - Decimal(line["credit_amount"])
            lines.append({
                **({"journalId": journal_id} if journal_id else {}),
                "lineNumber": BC_LINE_NUMBER_STEP * (len(lines) + 1),
                "accountType": BC_ACCOUNT_TYPE,
                "accountNumber": line["account_code"],
                "postingDate": batch["posting_date"],
                "documentNumber": document_number,
                "externalDocumentNumber": batch["payout_id"] or "",
                "amount": amount.quantize(CENT),
                "description": (line["description"] or "")[:BC_DESCRIPTION_MAX],
                "comment": f"{batch['batch_id']} line {line['line_number']} ({line['posting_role']})",
            })
    return _file_name(checked, ".bc-journal-lines", "json"), _json_exact(lines) + "\n"


LAYOUTS: dict[str, Callable[..., tuple[str, str]]] = {
    "generic_csv": generic_csv,
    "generic_json": generic_json,
    "netsuite_csv": netsuite_journal_csv,
    "business_central_json": business_central_journal_lines,
}


def journal_file(layout: str, batches: Batches, **options) -> tuple[str, str]:
    """The file of one layout by name (LAYOUTS), e.g. from an asset's config."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown journal file layout {layout!r}; expected one of {sorted(LAYOUTS)}")
    return LAYOUTS[layout](batches, **options)


def journal_memo(batch: Batch) -> str:
    """The journal's header memo: what it books and where it comes from (and what it reverses or corrects)."""
    words = [batch.get("provider"), batch.get("journal_type") or "journal"]
    if batch.get("payout_id"):
        words += ["payout", batch["payout_id"]]
    if batch.get("location_id"):  # a COGS journal: one location's day
        words += ["at", batch["location_id"], "on", batch.get("posting_date")]
    if batch.get("reverses_batch_id"):
        words += ["reversal of", batch["reverses_batch_id"]]
    if batch.get("corrects_batch_id"):
        words += ["correction of", batch["corrects_batch_id"]]
    return " ".join(str(word) for word in words if word) + f" ({batch['batch_id']})"


def bc_document_number(batch_id: str) -> str:
    """The batch id, or for a reversal or correction too long for Business Central's 20-character Document
    No., its -R<n>/-C<n> suffix after as much of the original id as fits (the id's head is unique enough:
    SJ-0123456789abcd-R1). Any other id is returned whole, so the caller's length check refuses it."""
    head, dash, suffix = batch_id.rpartition("-")
    if len(batch_id) <= BC_DOCUMENT_NUMBER_MAX or not (head and suffix[:1] in ("R", "C") and suffix[1:].isdigit()):
        return batch_id
    return head[:BC_DOCUMENT_NUMBER_MAX - len(suffix) - 1] + dash + suffix


# ---- checks and normal form ----------------------------------------------------------------------
def money(value: Any, what: str = "amount") -> Decimal:
    """An exact amount with at most 2 decimals; floats and anything else inexact are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{what} must be a decimal string, Decimal or int, not {type(value).__name__} ({value!r})")
    try:
        amount = Decimal(value) if isinstance(value, (Decimal, int)) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{what} is not an amount: {value!r}") from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise ValueError(f"{what} must be an amount with at most 2 decimals, got {value!r}")
    return amount.quantize(CENT)


def normalised_batch(batch: Batch) -> dict:
    """The batch with money as 2-decimal strings, the date as ISO text and lines in line number order,
    after checking that it balances (ValueError otherwise). Keys are kept as given."""
    batch_id = batch.get("batch_id")
    if not batch_id:
        raise ValueError("a posting batch needs a batch_id")
    missing = [key for key in (*BATCH_COLUMNS[:-1], "lines") if key not in batch]
    if missing:
        raise ValueError(f"batch {batch_id} lacks {', '.join(missing)}")
    plain = {key: _plain(key, value, f"batch {batch_id} {key}") for key, value in batch.items() if key != "lines"}
    try:
        plain["posting_date"] = date.fromisoformat(str(batch["posting_date"])).isoformat()
    except ValueError:
        raise ValueError(f"batch {batch_id}: posting_date {batch['posting_date']!r} is not an ISO date") from None
    lines = []
    for line in batch["lines"]:
        where = f"batch {batch_id} line {line.get('line_number')}"
        absent = [key for key in LINE_COLUMNS if key not in line and key != "currency"]
        if absent:
            raise ValueError(f"{where} lacks {', '.join(absent)}")
        lines.append({key: _plain(key, value, f"{where} {key}") for key, value in line.items()})
    lines.sort(key=lambda line: int(line["line_number"]))
    plain["lines"] = lines
    _check_balanced(plain)
    return plain


def _plain(key: str, value: Any, what: str) -> Any:
    if key in MONEY_KEYS:
        return format(money(value, what), "f")
    if isinstance(value, (date, Decimal)):
        return value.isoformat() if isinstance(value, date) else format(value, "f")
    return value


def _check_balanced(batch: dict) -> None:
    batch_id, lines = batch["batch_id"], batch["lines"]
    if not lines:
        raise ValueError(f"batch {batch_id} has no lines")
    numbers = [int(line["line_number"]) for line in lines]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"batch {batch_id} repeats a line number")
    for line in lines:
        debit, credit = Decimal(line["debit_amount"]), Decimal(line["credit_amount"])
        if debit < 0 or credit < 0 or (debit > 0) == (credit > 0):
            raise ValueError(f"batch {batch_id} line {line['line_number']}: a line has either a positive debit "
                             f"or a positive credit (got {line['debit_amount']} / {line['credit_amount']})")
        if line.get("currency") not in (None, batch["currency"]):
            raise ValueError(f"batch {batch_id} line {line['line_number']} is in {line['currency']}, "
                             f"the batch in {batch['currency']}")
        if not line.get("account_code"):
            raise ValueError(f"batch {batch_id} line {line['line_number']} has no account_code")
    debits = sum((Decimal(line["debit_amount"]) for line in lines), ZERO)
    credits = sum((Decimal(line["credit_amount"]) for line in lines), ZERO)
    if debits != credits:
        raise ValueError(f"batch {batch_id} does not balance: debits {debits} != credits {credits}")
    if (Decimal(batch["total_debit"]), Decimal(batch["total_credit"])) != (debits, credits):
        raise ValueError(f"batch {batch_id}: stated totals {batch['total_debit']} / {batch['total_credit']} "
                         f"are not its lines' {debits} / {credits}")
    if int(batch["line_count"]) != len(lines):
        raise ValueError(f"batch {batch_id}: line_count {batch['line_count']} but {len(lines)} lines")


def _checked_all(batches: Batches) -> list[dict]:
    listed = [batches] if isinstance(batches, Mapping) else list(batches)
    if not listed:
        raise ValueError("no batches to write")
    checked = sorted((normalised_batch(batch) for batch in listed),
                     key=lambda batch: (batch["posting_date"], batch["batch_id"]))
    ids = [batch["batch_id"] for batch in checked]
    if len(set(ids)) != len(ids):
        raise ValueError(f"a batch id appears twice: {sorted({i for i in ids if ids.count(i) > 1})}")
    return checked


# ---- writing -------------------------------------------------------------------------------------
def _file_name(batches: list[dict], suffix: str, extension: str) -> str:
    if len(batches) == 1:
        return f"{batches[0]['batch_id']}{suffix}.{extension}"
    digest = hashlib.sha256("\n".join(sorted(b["batch_id"] for b in batches)).encode()).hexdigest()[:12]
    return (f"journal-batches-{batches[0]['posting_date']}_{batches[-1]['posting_date']}-{digest}"
            f"{suffix}.{extension}")


def _cell(record: Mapping, column: str) -> str:
    value = record.get(column)
    return "" if value is None else str(value)


def _csv_text(header: Sequence[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _json_exact(value: Any, indent: int = 2, depth: int = 0) -> str:
    """JSON with Decimals as numbers carrying their exact text (json.dumps would need floats)."""
    pad, inner = " " * (indent * depth), " " * (indent * (depth + 1))
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(str(k))}: {_json_exact(v, indent, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(f"{inner}{_json_exact(v, indent, depth + 1)}" for v in value) + f"\n{pad}]"
    if isinstance(value, float):
        raise TypeError("floats are not written: amounts are Decimals")
    return json.dumps(value)
