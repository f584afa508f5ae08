"""The gate in front of the ERP: no posting batch leaves unless every batch balances.

The check recomputes each batch's debits and credits from its journal lines (it does not
trust the batch header), and is blocking: when it fails, the export in the same run is skipped
and the check's metadata names the batches and their differences.
"""

from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue, asset_check

from orchestration.resources import WarehouseResource

POSTING_BATCHES = AssetKey(["marts", "posting_batches"])
JOURNAL_LINES = AssetKey(["marts", "journal_lines"])

UNBALANCED_BATCHES_SQL = """
with line_totals as (
    select batch_id, currency, sum(debit_amount) as debit, sum(credit_amount) as credit
    from marts.journal_lines
    group by batch_id, currency
)
select b.batch_id, b.payout_id, b.currency,
       coalesce(l.debit, 0) as debit, coalesce(l.credit, 0) as credit
from marts.posting_batches b
left join line_totals l on l.batch_id = b.batch_id and l.currency = b.currency
where l.batch_id is null or l.debit <> l.credit or l.debit <> b.total_debit or l.credit <> b.total_credit
order by b.batch_id
"""


def unbalanced_batches(warehouse) -> list[tuple]:
    return warehouse.fetchall(UNBALANCED_BATCHES_SQL)


@asset_check(asset=POSTING_BATCHES, additional_deps=[JOURNAL_LINES], blocking=True,
             description="Every posting batch balances: its journal lines' debits equal credits per currency.")
def posting_batches_balance(warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.connect() as wh:
        bad = unbalanced_batches(wh)
        batch_count = wh.fetchall("select count(*) from marts.posting_batches")[0][0]
    rows = "\n".join(f"| {b} | {p} | {c} | {d} | {cr} | {d - cr} |" for b, p, c, d, cr in bad)
    return AssetCheckResult(
        passed=not bad,
        severity=AssetCheckSeverity.ERROR,
        description=None if not bad else f"{len(bad)} of {batch_count} posting batches do not balance; export blocked.",
        metadata={
            "batches": batch_count,
            "unbalanced_batches": len(bad),
            "unbalanced": MetadataValue.md(
                "| batch | payout | currency | debit | credit | difference |\n|---|---|---|---|---|---|\n" + rows)
            if bad else MetadataValue.md("all batches balance"),
        },
    )
