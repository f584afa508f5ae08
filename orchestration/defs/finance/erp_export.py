"""Ready posting batches to the ERP: import files in every layout, and the push to its REST API.

An exported batch never changes. outbound.erp_exported_batches keeps the exact content of every batch
exported (canonical JSON and its sha256); when a batch's booking in the marts moves after its export, the run
exports a reversing batch `<id>-R<n>` and a correcting batch `<id>-C<n>` instead of touching the first one
(orchestration/erp_corrections.py decides which). Batches exported before the ledger existed are taken from
their generic JSON file on disk, so they are neither exported again nor corrected against the wrong content.

Order, so that a crash anywhere is healed by the next run: the ledger is recorded first (what is exported,
in one bulk insert), then each exported batch the ERP has not confirmed gets its files, under
exports/erp/<posting date>/ in the four layouts of connectors/erp/journal_files.py (a file that exists is
never rewritten), and is pushed with its batch id as the idempotency key (connectors/erp/journal_push.py);
the ERP's answer, its document number included, is kept in outbound.erp_postings. Only batches dbt marks
ready leave; blocked ones are held with their reasons, and an exported batch that is now blocked is "held
after export": nothing of it is posted. The gate has already passed when this runs; the files still refuse
a batch that does not balance, so no code path can post one.
"""

import json
import os
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, asset

from connectors.erp.journal_files import LAYOUTS, journal_file, normalised_batch
from connectors.erp.journal_push import push_batches
from orchestration import local_paths
from orchestration.defs.finance.posting_gate import JOURNAL_LINES, POSTING_BATCHES, unbalanced_batches
from orchestration.erp_corrections import ExportedBatch, canonical_json, plan_exports
from orchestration.run_metadata import md_table

BATCH_COLUMNS = ["batch_id", "legal_entity_id", "journal_type", "provider", "payout_id", "location_id",
                 "posting_date", "currency", "total_debit", "total_credit", "line_count", "channel_id",
                 "functional_currency"]
LINE_COLUMNS = ["batch_id", "line_number", "posting_role", "account_code", "description", "debit_amount",
                "credit_amount", "currency", "functional_currency", "fx_rate", "functional_debit_amount",
                "functional_credit_amount"]
MONEY_COLUMNS = {"total_debit", "total_credit", "debit_amount", "credit_amount", "functional_debit_amount",
                 "functional_credit_amount"}

POSTINGS = "outbound.erp_postings"
LEDGER = "outbound.erp_exported_batches"
CREATE_TABLES = (
    "create schema if not exists outbound",
    f"""create table if not exists {POSTINGS} (
        batch_id varchar not null, pushed_at timestamp not null, status varchar not null,
        document_number varchar, message varchar)""",
    f"""create table if not exists {LEDGER} (
        batch_id varchar primary key,
        original_batch_id varchar not null,
        amends_batch_id varchar,
        kind varchar not null,
        correction_number integer not null,
        content varchar not null,
        content_sha256 varchar not null,
        exported_at timestamp not null)""",
)
LEDGER_COLUMNS = ("batch_id", "original_batch_id", "amends_batch_id", "kind", "correction_number", "content",
                  "content_sha256", "exported_at")
ROWS_PER_INSERT = 500  # one statement per 500 rows, all in one transaction

# The last export of each chain (see erp_corrections.latest_by_original: a correction after its reversal).
LATEST_EXPORTS_SQL = f"""
select batch_id, original_batch_id, kind, correction_number, amends_batch_id, content
from (
    select *, row_number() over (partition by original_batch_id
                                 order by correction_number desc,
                                          case kind when 'correction' then 0 else 1 end) as recency
    from {LEDGER}
) latest
where recency = 1
"""

UNCONFIRMED_EXPORTS_SQL = f"""
select l.original_batch_id, l.content
from {LEDGER} l
where not exists (select 1 from {POSTINGS} p
                  where p.batch_id = l.batch_id and p.status in ('posted', 'duplicate'))
order by l.exported_at, l.original_batch_id, l.correction_number,
         case l.kind when 'original' then 0 when 'reversal' then 1 else 2 end
"""


# ---- the marts -----------------------------------------------------------------------------------
def _plain(column: str, value):
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01")) if column in MONEY_COLUMNS else value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value if isinstance(value, (str, int, type(None))) else str(value)


def ready_batches(warehouse) -> list[dict]:
    """Every ready batch with its lines, money as exact text."""
    bad = unbalanced_batches(warehouse)
    if bad:
        raise Failure(f"refusing to export: {len(bad)} posting batches do not balance ({', '.join(b[0] for b in bad[:5])})")
    lines: dict[str, list[dict]] = {}
    for row in warehouse.fetchall(f"select {', '.join(f'l.{c}' for c in LINE_COLUMNS)} from marts.journal_lines l "
                                  "order by l.batch_id, l.line_number"):
        line = {column: _plain(column, value) for column, value in zip(LINE_COLUMNS, row)}
        lines.setdefault(line.pop("batch_id"), []).append(line)
    batches = warehouse.fetchall(f"select {', '.join(BATCH_COLUMNS)} from marts.posting_batches "
                                 f"where status = 'ready' order by batch_id")
    return [{**{column: _plain(column, value) for column, value in zip(BATCH_COLUMNS, row)},
             "lines": lines.get(row[0], [])} for row in batches]


def blocked_batch_ids(warehouse) -> set[str]:
    return {batch_id for (batch_id,) in warehouse.fetchall(
        "select batch_id from marts.posting_batches where status = 'blocked'")}


# ---- the ledger ----------------------------------------------------------------------------------
def _committed(warehouse, statements) -> None:
    """Run the statements in one transaction (PostgreSQL keeps nothing that is not committed)."""
    warehouse.begin()
    try:
        for sql, params in statements:
            warehouse.execute(sql, params)
        warehouse.commit()
    except BaseException:
        warehouse.rollback()
        raise


def ensure_tables(warehouse) -> None:
    _committed(warehouse, [(sql, None) for sql in CREATE_TABLES])


def latest_exports(warehouse) -> list[ExportedBatch]:
    return [ExportedBatch(batch_id, original, kind, number, amends, json.loads(content))
            for batch_id, original, kind, number, amends, content in warehouse.fetchall(LATEST_EXPORTS_SQL)]


def record_exports(warehouse, entries: list[ExportedBatch], exported_at: datetime) -> None:
    """Record what this run exports, before any file is written or anything pushed."""
    if not entries:
        return
    rows = [(e.batch_id, e.original_batch_id, e.amends_batch_id, e.kind, e.correction_number,
             canonical_json(e.content), e.sha256, _utc_naive(e.exported_at or exported_at)) for e in entries]
    placeholders = "(" + ", ".join("?" * len(LEDGER_COLUMNS)) + ")"
    _committed(warehouse, [
        (f"insert into {LEDGER} ({', '.join(LEDGER_COLUMNS)}) values " + ", ".join([placeholders] * len(chunk)),
         [value for row in chunk for value in row])
        for chunk in (rows[i:i + ROWS_PER_INSERT] for i in range(0, len(rows), ROWS_PER_INSERT))])


def unconfirmed_exports(warehouse, held: set[str]) -> list[dict]:
    """Exported batches the ERP has not confirmed, in the order they were exported; a chain held after
    export waits."""
    return [json.loads(content) for original, content in warehouse.fetchall(UNCONFIRMED_EXPORTS_SQL)
            if original not in held]


def exports_on_disk(export_root: Path, batch_ids) -> list[ExportedBatch]:
    """Batches exported before the ledger existed: their generic JSON `<batch>.json` is what was exported.

    When a batch was written under two posting dates (its date moved, and the old export wrote it again),
    the file written first is the one the ERP took."""
    wanted = set(batch_ids)
    found: dict[str, list[Path]] = {}
    if wanted:
        for path in (export_root / "erp").glob("*/*.json"):
            if path.name.removesuffix(".json") in wanted:
                found.setdefault(path.name.removesuffix(".json"), []).append(path)
    adopted = []
    for batch_id, paths in sorted(found.items()):
        first = min(paths, key=lambda path: (path.stat().st_mtime_ns, str(path)))
        content = json.loads(first.read_text(encoding="utf-8"))
        if not isinstance(content, dict) or content.get("batch_id") != batch_id:
            raise Failure(f"{first} is not the export of batch {batch_id}")
        exported_at = datetime.fromtimestamp(first.stat().st_mtime, timezone.utc)
        adopted.append(ExportedBatch(batch_id, batch_id, "original", 0, None, normalised_batch(content), exported_at))
    return adopted


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


# ---- files and the ERP ---------------------------------------------------------------------------
def export_batches(batches: list[dict], export_root: Path) -> dict:
    """Write each batch's missing files in every layout; a file already there is never rewritten (one that
    differs from the ledger's content is reported for a person)."""
    written, unchanged, differs = [], 0, []
    for batch in batches:
        folder = export_root / "erp" / str(batch["posting_date"])
        files = dict(journal_file(layout, batch) for layout in LAYOUTS)
        existing = {name for name in files if (folder / name).exists()}
        # bytes, not text: the CSV layouts end their lines with CRLF
        if any((folder / name).read_bytes() != files[name].encode() for name in existing):
            differs.append(batch["batch_id"])
        if len(existing) == len(files):
            unchanged += 1
            continue
        folder.mkdir(parents=True, exist_ok=True)
        for name in files.keys() - existing:
            partial = folder / f".{name}.partial"  # a crash mid-write leaves no half file under the real name
            partial.write_bytes(files[name].encode())
            os.replace(partial, folder / name)
        written.append(batch)
    return {"written": written, "unchanged": unchanged, "differs_from_ledger": differs}


def record_postings(warehouse, outcomes, pushed_at: datetime) -> None:
    if not outcomes:
        return
    stamp = _utc_naive(pushed_at)
    params = [v for o in outcomes for v in (o.batch_id, stamp, o.status, o.document_number, o.message)]
    _committed(warehouse, [(f"insert into {POSTINGS} (batch_id, pushed_at, status, document_number, message) "
                            "values " + ", ".join(["(?, ?, ?, ?, ?)"] * len(outcomes)), params)])


@asset(key=AssetKey(["outbound", "erp_posting_export"]), deps=[POSTING_BATCHES, JOURNAL_LINES], group_name="posting",
       required_resource_keys={"warehouse", "erp"},
       description="Ready posting batches written as ERP import files (generic JSON and CSV, NetSuite journal CSV, "
                   "Business Central journal lines) and posted to the ERP's API with the batch id as idempotency "
                   "key; a batch changed after export is reversed (-R<n>) and rebooked (-C<n>), never rewritten. "
                   "What was exported in outbound.erp_exported_batches, the ERP's document numbers in "
                   "outbound.erp_postings.")
def erp_posting_export(context: AssetExecutionContext) -> MaterializeResult:
    started = datetime.now(timezone.utc)
    export_root = local_paths.export_root()
    with context.resources.warehouse.connect() as wh:
        ensure_tables(wh)
        batches = ready_batches(wh)
        blocked = blocked_batch_ids(wh)
        ledger = latest_exports(wh)
        if ledger and not batches and not blocked:
            # An empty build (a failed or partial rebuild) is no reason to reverse every journal ever posted.
            raise Failure(f"marts.posting_batches is empty while {len(ledger)} batches were exported: refusing to "
                          "reverse them all; rebuild the marts, or reverse on purpose batch by batch")
        unrecorded = ({b["batch_id"] for b in batches} | blocked) - {e.original_batch_id for e in ledger}
        adopted = exports_on_disk(export_root, unrecorded)
        plan = plan_exports([*ledger, *adopted], batches, blocked)
        record_exports(wh, [*adopted, *plan.entries], started)
        to_push = unconfirmed_exports(wh, held=set(plan.held_after_export))
    files = export_batches(to_push, export_root)
    outcomes = push_batches(context.resources.erp.client(), to_push) if to_push else []
    with context.resources.warehouse.connect() as wh:
        record_postings(wh, outcomes, started)

    if adopted:
        context.log.info(f"{len(adopted)} batches exported before the ledger existed taken from their files")
    if plan.held_after_export:
        context.log.warning(f"held after export (exported, now blocked; nothing posted): "
                            f"{', '.join(plan.held_after_export[:20])}")
    for entry in plan.amendments:
        context.log.info(f"{entry.batch_id}: {entry.kind} of {entry.amends_batch_id}")
    if files["differs_from_ledger"]:
        context.log.warning(f"files on disk differ from what was exported, not rewritten: "
                            f"{files['differs_from_ledger']}")
    for outcome in outcomes:
        if outcome.status == "refused":
            context.log.warning(f"the ERP refused {outcome.batch_id}: {outcome.message}")

    return MaterializeResult(metadata={
        "batches_written": len(files["written"]),
        "batches_already_exported": len(plan.unchanged),
        "batches_exported_before_ledger": len(adopted),
        "batches_corrected": len(plan.of_kind("correction")),
        "batches_reversed": len(plan.of_kind("reversal")),
        "batches_held": len(blocked),
        "batches_held_after_export": len(plan.held_after_export),
        "files_differing_from_ledger": len(files["differs_from_ledger"]),
        "batches_posted_to_erp": sum(1 for o in outcomes if o.status == "posted"),
        "batches_refused_by_erp": sum(1 for o in outcomes if o.status == "refused"),
        "written": md_table(["batch", "journal", "provider or location", "payout", "posting date", "debit",
                             "currency"],
                            [(b["batch_id"], b["journal_type"], b.get("provider") or b.get("location_id") or "",
                              b["payout_id"] or "", b["posting_date"], b["total_debit"], b["currency"])
                             for b in files["written"]],
                            "nothing new"),
        "corrections": md_table(["batch", "kind", "of", "posting date", "debit", "currency"],
                                [(e.batch_id, e.kind, e.amends_batch_id, e.content["posting_date"],
                                  e.content["total_debit"], e.content["currency"]) for e in plan.amendments],
                                "no corrections"),
        "erp_postings": md_table(["batch", "ERP answer", "document number"],
                                 [(o.batch_id, o.status, o.document_number or "") for o in outcomes],
                                 "nothing new to post"),
    })
