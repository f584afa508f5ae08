"""Write ready posting batches as files for the ERP to import.

One JSON file per batch, named by its deterministic batch id: exporting again writes nothing
new, and a batch is never exported twice under another name. The gate has already passed when
this runs; the export still refuses an unbalanced batch, so no code path can post one.
"""

import json
from decimal import Decimal
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, MetadataValue, asset

from orchestration import local_paths
from orchestration.defs.finance.posting_gate import JOURNAL_LINES, POSTING_BATCHES, unbalanced_batches
from orchestration.resources import WarehouseResource

BATCH_COLUMNS = ["batch_id", "legal_entity_id", "journal_type", "provider", "payout_id", "posting_date",
                 "currency", "total_debit", "total_credit", "line_count"]
LINE_COLUMNS = ["batch_id", "line_number", "posting_role", "account_code", "description", "debit_amount",
                "credit_amount", "currency"]


def _plain(value):
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01")), "f")
    return value if isinstance(value, (str, int, type(None))) else str(value)


def export_batches(warehouse, export_root: Path) -> dict:
    """Write every balanced batch not yet exported; returns counts and the batches written."""
    bad = unbalanced_batches(warehouse)
    if bad:
        raise Failure(f"refusing to export: {len(bad)} posting batches do not balance ({', '.join(b[0] for b in bad[:5])})")
    batches = warehouse.fetchall(f"select {', '.join(BATCH_COLUMNS)} from marts.posting_batches order by batch_id")
    lines: dict[str, list[dict]] = {}
    for row in warehouse.fetchall(f"select {', '.join(LINE_COLUMNS)} from marts.journal_lines order by batch_id, line_number"):
        line = dict(zip(LINE_COLUMNS, map(_plain, row)))
        lines.setdefault(line.pop("batch_id"), []).append(line)
    written, unchanged, changed = [], 0, []
    for row in batches:
        batch = dict(zip(BATCH_COLUMNS, map(_plain, row)))
        body = json.dumps({**batch, "lines": lines.get(batch["batch_id"], [])}, indent=2, sort_keys=True) + "\n"
        path = export_root / "erp" / str(batch["posting_date"]) / f"{batch['batch_id']}.json"
        if path.exists():
            if path.read_text() == body:
                unchanged += 1
            else:
                # An exported batch is posted: a different body under the same id needs a person.
                changed.append(batch["batch_id"])
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        written.append(batch)
    return {"written": written, "unchanged": unchanged, "changed_after_export": changed}


@asset(key=AssetKey(["outbound", "erp_posting_export"]), deps=[POSTING_BATCHES, JOURNAL_LINES], group_name="outbound",
       description="Balanced posting batches written as ERP import files (one JSON file per batch id).")
def erp_posting_export(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    with warehouse.connect() as wh:
        result = export_batches(wh, local_paths.export_root())
    if result["changed_after_export"]:
        context.log.warning(f"batches changed after export, not rewritten: {result['changed_after_export']}")
    table = "\n".join(f"| {b['batch_id']} | {b['payout_id']} | {b['posting_date']} | {b['total_debit']} | {b['currency']} |"
                      for b in result["written"])
    return MaterializeResult(metadata={
        "batches_written": len(result["written"]),
        "batches_already_exported": result["unchanged"],
        "batches_changed_after_export": len(result["changed_after_export"]),
        "written": MetadataValue.md("| batch | payout | posting date | debit | currency |\n|---|---|---|---|---|\n" + table)
        if table else MetadataValue.md("nothing new to export"),
    })
