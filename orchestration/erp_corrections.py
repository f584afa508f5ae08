"""An exported batch never changes: what a run exports, given what was exported before and the marts now.

The ERP (and whoever imported a file) holds every exported batch as it was. So when a batch's content in the
marts moves after its export, the export is not rewritten; the run books the difference the way an accountant
does, as a pair of batches that are themselves new exports:

- `<original id>-R<n>` reverses the content in force (the original or its latest correction): the same
  lines, accounts, entity and currency with debits and credits swapped, dated as that content was, each
  line described "Reversal of <reversed id>: ...";
- `<original id>-C<n>` carries the current content, dated as the current batch.

n = 1, 2, ... counts the corrections of one original. A batch that has left the marts gets the reversal only
(nothing is in force afterwards; if it comes back, its content is posted as the next correction, alone). A
batch the marts now hold back (blocked) is "held after export": nothing is posted until it is ready again.

Only what is booked is compared: the header (entity, date, currency, ...) and each line's account, role,
amounts and currency, whatever the line order. Line numbers and descriptions are wording: a reworded
description in dbt must not reverse and re-post every batch ever exported. A key the earlier export did not
carry (a column the marts gained since, such as functional amounts) is not compared either.

Everything here is pure: erp_export.py reads the ledger and the marts, records what this returns, writes
the files and pushes.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from connectors.erp.journal_files import normalised_batch

Kind = Literal["original", "reversal", "correction"]
KIND_ORDER = {"original": 0, "reversal": 1, "correction": 2}  # within one correction number: reverse, then rebook
REVERSES, CORRECTS = "reverses_batch_id", "corrects_batch_id"
# Keys that name or word a batch rather than book it.
NOT_BOOKED = frozenset({"batch_id", REVERSES, CORRECTS, "lines", "line_number", "description"})
SIDES = (("debit_amount", "credit_amount"), ("functional_debit_amount", "functional_credit_amount"),
         ("total_debit", "total_credit"))


@dataclass(frozen=True)
class ExportedBatch:
    """One row of the ledger: a batch as it was exported (its content never changes afterwards)."""

    batch_id: str
    original_batch_id: str  # the marts batch this chain of corrections belongs to
    kind: Kind
    correction_number: int  # 0 for the original, n for -R<n> and -C<n>
    amends_batch_id: str | None  # reversal: the batch it reverses; correction: the batch it supersedes
    content: dict = field(repr=False)
    exported_at: datetime | None = None  # None: now (the run records it)

    @property
    def sha256(self) -> str:
        return content_sha256(self.content)


@dataclass(frozen=True)
class ExportPlan:
    """What this run exports, in the order to record and post it."""

    originals: list[ExportedBatch]  # ready batches exported for the first time
    amendments: list[ExportedBatch]  # reversals and corrections, each reversal before its correction
    held_after_export: list[str]  # exported, now blocked: nothing posted
    unchanged: list[str]  # exported, still ready, booking unchanged

    @property
    def entries(self) -> list[ExportedBatch]:
        return [*self.originals, *self.amendments]

    def of_kind(self, kind: Kind) -> list[ExportedBatch]:
        return [entry for entry in self.amendments if entry.kind == kind]


def canonical_json(content: Mapping) -> str:
    """The content as compact JSON with sorted keys and normalised money and dates: equal content, equal text."""
    return json.dumps(normalised_batch(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_sha256(content: Mapping) -> str:
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def latest_by_original(ledger: Iterable[ExportedBatch]) -> dict[str, ExportedBatch]:
    """The last export of each chain: the highest correction number, its correction after its reversal."""
    latest: dict[str, ExportedBatch] = {}
    for entry in ledger:
        current = latest.get(entry.original_batch_id)
        if current is None or _recency(entry) > _recency(current):
            latest[entry.original_batch_id] = entry
    return latest


def booking_differs(exported: Mapping, current: Mapping) -> bool:
    """Whether the current content books something other than the exported content (see module docstring)."""
    exported, current = normalised_batch(exported), normalised_batch(current)
    header_keys = (exported.keys() & current.keys()) - NOT_BOOKED
    line_keys = (_line_keys(exported) & _line_keys(current)) - NOT_BOOKED
    return _booking(exported, header_keys, line_keys) != _booking(current, header_keys, line_keys)


def reversal(reversed_batch: ExportedBatch, number: int) -> ExportedBatch:
    """`<original>-R<n>`: the reversed batch's lines with their sides swapped, on the reversed batch's date."""
    plain = normalised_batch(reversed_batch.content)
    header = {key: value for key, value in plain.items() if key not in ("lines", REVERSES, CORRECTS)}
    content = {**_swapped(header), "batch_id": f"{reversed_batch.original_batch_id}-R{number}",
               REVERSES: reversed_batch.batch_id,
               "lines": [{**_swapped(line), "description": _reversal_text(reversed_batch.batch_id, line)}
                         for line in plain["lines"]]}
    return ExportedBatch(content["batch_id"], reversed_batch.original_batch_id, "reversal", number,
                         reversed_batch.batch_id, content)


def correction(original_batch_id: str, current: Mapping, number: int, supersedes: str) -> ExportedBatch:
    """`<original>-C<n>`: the current content under its own id, dated as the current batch."""
    batch_id = f"{original_batch_id}-C{number}"
    content = {**normalised_batch(current), "batch_id": batch_id, CORRECTS: supersedes}
    return ExportedBatch(batch_id, original_batch_id, "correction", number, supersedes, content)


def plan_exports(ledger: Iterable[ExportedBatch], ready: Iterable[Mapping],
                 blocked: Iterable[str] = ()) -> ExportPlan:
    """New originals, and a reversal and/or correction for every exported batch whose booking moved.

    `ledger`: exported batches (the latest of each chain is enough); `ready`: the ready batches of the marts
    (the dicts of connectors/erp/journal_files.py); `blocked`: ids of the batches the marts hold back.
    """
    latest = latest_by_original(ledger)
    ready_by_id = {batch["batch_id"]: batch for batch in ready}
    blocked = set(blocked)
    originals = [ExportedBatch(batch_id, batch_id, "original", 0, None, normalised_batch(batch))
                 for batch_id, batch in sorted(ready_by_id.items()) if batch_id not in latest]
    amendments, held, unchanged = [], [], []
    for original_id, last in sorted(latest.items()):
        if original_id in blocked:
            held.append(original_id)
            continue
        in_force = None if last.kind == "reversal" else last
        current = ready_by_id.get(original_id)
        if current is None and in_force is None:
            continue  # gone, and already reversed
        if current is not None and in_force is not None and not booking_differs(in_force.content, current):
            unchanged.append(original_id)
            continue
        number = last.correction_number + 1
        if in_force is not None:
            amendments.append(reversal(in_force, number))
        if current is not None:
            amendments.append(correction(original_id, current, number,
                                         in_force.batch_id if in_force is not None else original_id))
    return ExportPlan(originals, amendments, held, unchanged)


# ---- helpers -------------------------------------------------------------------------------------
def _recency(entry: ExportedBatch) -> tuple[int, int]:
    return entry.correction_number, KIND_ORDER[entry.kind]


def _line_keys(content: Mapping) -> set[str]:
    return {key for line in content["lines"] for key in line}


def _booking(content: Mapping, header_keys: set[str], line_keys: set[str]) -> tuple:
    header = sorted((key, str(content.get(key))) for key in header_keys)
    lines = sorted(json.dumps({key: line.get(key) for key in sorted(line_keys)}, default=str)
                   for line in content["lines"])
    return header, lines


def _swapped(record: Mapping) -> dict:
    """The record with each debit/credit pair it carries exchanged."""
    swapped = dict(record)
    for debit, credit in SIDES:
        if debit in record and credit in record:
            swapped[debit], swapped[credit] = record[credit], record[debit]
    return swapped


def _reversal_text(reversed_id: str, line: Mapping) -> str:
    return f"Reversal of {reversed_id}: {line.get('description') or ''}".rstrip()
