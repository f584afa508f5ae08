"""Ready posting batches to the ERP: import files in every layout, and the push to its REST API.

Files: per batch, under exports/erp/<posting date>/, the generic JSON and CSV, NetSuite's journal CSV
import and Business Central's journal lines JSON (connectors/erp/journal_files.py), named by the
deterministic batch id: exporting again writes nothing new. Push: every ready batch the ERP has not
confirmed yet is posted with its batch id as the idempotency key (connectors/erp/journal_push.py), and the
ERP's answer, its document number included, is kept in outbound.erp_postings. Only batches dbt marks ready
leave; blocked ones are held with their reasons. The gate has already passed when this runs; the files
still refuse a batch that does not balance, so no code path can post one.
"""

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, MetadataValue, asset

from connectors.erp.journal_files import LAYOUTS, journal_file
from connectors.erp.journal_push import push_batches
from orchestration import local_paths
from orchestration.defs.finance.posting_gate import JOURNAL_LINES, POSTING_BATCHES, unbalanced_batches

BATCH_COLUMNS = ["batch_id", "legal_entity_id", "journal_type", "provider", "payout_id", "location_id",
                 "posting_date", "currency", "total_debit", "total_credit", "line_count"]
LINE_COLUMNS = ["batch_id", "line_number", "posting_role", "account_code", "description", "debit_amount",
                "credit_amount", "currency"]
POSTINGS = "outbound.erp_postings"
CREATE_POSTINGS = (
    "create schema if not exists outbound",
    f"""create table if not exists {POSTINGS} (
        batch_id varchar not null, pushed_at timestamp not null, status varchar not null,
        document_number varchar, message varchar)""",
)


def _plain(value):
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01")), "f")
    return value if isinstance(value, (str, int, type(None))) else str(value)


def ready_batches(warehouse) -> list[dict]:
    """Every ready batch with its lines, money as exact text."""
    bad = unbalanced_batches(warehouse)
    if bad:
        raise Failure(f"refusing to export: {len(bad)} posting batches do not balance ({', '.join(b[0] for b in bad[:5])})")
    lines: dict[str, list[dict]] = {}
    for row in warehouse.fetchall(f"select {', '.join(f'l.{c}' for c in LINE_COLUMNS)} from marts.journal_lines l "
                                  "order by l.batch_id, l.line_number"):
        line = dict(zip(LINE_COLUMNS, map(_plain, row)))
        lines.setdefault(line.pop("batch_id"), []).append(line)
    batches = warehouse.fetchall(f"select {', '.join(BATCH_COLUMNS)} from marts.posting_batches "
                                 f"where status = 'ready' order by batch_id")
    return [{**dict(zip(BATCH_COLUMNS, map(_plain, row))), "lines": lines.get(row[0], [])} for row in batches]


def export_batches(batches: list[dict], export_root: Path) -> dict:
    """Write each batch in every layout, once; returns what was written and what changed after export."""
    written, unchanged, changed = [], 0, []
    for batch in batches:
        folder = export_root / "erp" / str(batch["posting_date"])
        files = dict(journal_file(layout, batch) for layout in LAYOUTS)
        existing = [folder / name for name in files if (folder / name).exists()]
        if existing:
            # bytes, not text: the CSV layouts end their lines with CRLF
            if all(path.read_bytes() == files[path.name].encode() for path in existing):
                unchanged += 1
            else:
                # An exported batch is posted: a different body under the same id needs a person.
                changed.append(batch["batch_id"])
            continue
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_bytes(text.encode())
        written.append(batch)
    return {"written": written, "unchanged": unchanged, "changed_after_export": changed}


def confirmed_batches(warehouse) -> set[str]:
    for statement in CREATE_POSTINGS:
        warehouse.execute(statement)
    return {b for (b,) in warehouse.fetchall(f"select batch_id from {POSTINGS} where status in ('posted', 'duplicate')")}


def record_postings(warehouse, outcomes, pushed_at: datetime) -> None:
    if not outcomes:
        return
    stamp = pushed_at.astimezone(timezone.utc).replace(tzinfo=None)
    params = [v for o in outcomes for v in (o.batch_id, stamp, o.status, o.document_number, o.message)]
    warehouse.execute(f"insert into {POSTINGS} (batch_id, pushed_at, status, document_number, message) values "
                      + ", ".join(["(?, ?, ?, ?, ?)"] * len(outcomes)), params)


@asset(key=AssetKey(["outbound", "erp_posting_export"]), deps=[POSTING_BATCHES, JOURNAL_LINES], group_name="outbound",
       required_resource_keys={"warehouse", "erp"},
       description="Ready posting batches written as ERP import files (generic JSON and CSV, NetSuite journal CSV, "
                   "Business Central journal lines) and posted to the ERP's API with the batch id as idempotency "
                   "key; the ERP's document numbers in outbound.erp_postings.")
def erp_posting_export(context: AssetExecutionContext) -> MaterializeResult:
    started = datetime.now(timezone.utc)
    with context.resources.warehouse.connect() as wh:
        batches = ready_batches(wh)
        held = wh.fetchall("select count(*) from marts.posting_batches where status = 'blocked'")[0][0]
        confirmed = confirmed_batches(wh)
    result = export_batches(batches, local_paths.export_root())
    if result["changed_after_export"]:
        context.log.warning(f"batches changed after export, not rewritten: {result['changed_after_export']}")
    to_push = [b for b in batches if b["batch_id"] not in confirmed]
    outcomes = push_batches(context.resources.erp.client(), to_push) if to_push else []
    with context.resources.warehouse.connect() as wh:
        record_postings(wh, outcomes, started)
    for outcome in outcomes:
        if outcome.status == "refused":
            context.log.warning(f"the ERP refused {outcome.batch_id}: {outcome.message}")
    table = "\n".join(f"| {b['batch_id']} | {b['journal_type']} | {b['provider'] or b['location_id']} | "
                      f"{b['payout_id'] or ''} | {b['posting_date']} | {b['total_debit']} | {b['currency']} |"
                      for b in result["written"])
    pushed = "\n".join(f"| {o.batch_id} | {o.status} | {o.document_number or ''} |" for o in outcomes)
    return MaterializeResult(metadata={
        "batches_written": len(result["written"]),
        "batches_already_exported": result["unchanged"],
        "batches_changed_after_export": len(result["changed_after_export"]),
        "batches_held": held,
        "batches_posted_to_erp": sum(1 for o in outcomes if o.status == "posted"),
        "batches_refused_by_erp": sum(1 for o in outcomes if o.status == "refused"),
        "written": MetadataValue.md("| batch | journal | provider or location | payout | posting date | debit | "
                                    "currency |\n|---|---|---|---|---|---|---|\n" + table)
        if table else MetadataValue.md("nothing new"),
        "erp_postings": MetadataValue.md("| batch | ERP answer | document number |\n|---|---|---|\n" + pushed)
        if pushed else MetadataValue.md("nothing new to post"),
    })
