"""The gate in front of the ERP: no posting batch leaves unless it balances and its bank line is what the
bank received.

dbt marks each batch ready or blocked with its reasons (docs/postings.md); this check does not trust that
alone. It recomputes every ready batch's debits and credits from its journal lines and compares its bank
line with the deposit on the bank statement. It is blocking: when a ready batch fails, the export in the
same run is skipped and the check's metadata names the batches. Blocked batches are held, not failures:
they are listed with their reasons, and the other batches go on.
"""

from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, asset_check

from orchestration.resources import WarehouseResource
from orchestration.run_metadata import md_table

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
where b.status = 'ready'
    and (l.batch_id is null or l.debit <> l.credit or l.debit <> b.total_debit or l.credit <> b.total_credit)
order by b.batch_id
"""

# A ready batch's bank line against the deposit the bank statement shows for its payout.
BANK_LINE_DIFFERS_SQL = """
with bank_lines as (
    select batch_id, sum(debit_amount - credit_amount) as amount
    from marts.journal_lines
    where posting_role = 'bank'
    group by batch_id
)
select b.batch_id, b.payout_id, coalesce(l.amount, 0) as bank_line, p.deposit_amount
from marts.posting_batches b
inner join marts.payouts p on p.provider = b.provider and p.payout_id = b.payout_id
left join bank_lines l on l.batch_id = b.batch_id
where b.status = 'ready' and (p.deposit_amount is null or coalesce(l.amount, 0) <> p.deposit_amount)
order by b.batch_id
"""

HELD_BATCHES_SQL = """
select batch_id, provider, payout_id, posting_date, blocked_reason
from marts.posting_batches where status = 'blocked' order by posting_date, provider, batch_id
"""


def unbalanced_batches(warehouse) -> list[tuple]:
    return warehouse.fetchall(UNBALANCED_BATCHES_SQL)


@asset_check(asset=POSTING_BATCHES, additional_deps=[JOURNAL_LINES], blocking=True,
             description="Every ready posting batch balances (debits equal credits per currency, from its lines) "
                         "and its bank line equals the bank deposit; blocked batches are held with their reasons.")
def posting_batches_balance(warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.connect() as wh:
        unbalanced = unbalanced_batches(wh)
        bank_differs = wh.fetchall(BANK_LINE_DIFFERS_SQL)
        held = wh.fetchall(HELD_BATCHES_SQL)
        batch_count = wh.fetchall("select count(*) from marts.posting_batches")[0][0]
    failed = bool(unbalanced or bank_differs)
    return AssetCheckResult(
        passed=not failed,
        severity=AssetCheckSeverity.ERROR,
        description=(f"{len(unbalanced)} ready batches do not balance and {len(bank_differs)} have a bank line "
                     f"other than the deposit; export blocked." if failed else
                     f"{batch_count - len(held)} batches ready, {len(held)} held with their reasons."),
        metadata={
            "batches": batch_count,
            "ready_batches": batch_count - len(held),
            "held_batches": len(held),
            "unbalanced_batches": len(unbalanced),
            "bank_line_differs": len(bank_differs),
            "unbalanced": md_table(["batch", "payout", "currency", "debit", "credit"], unbalanced,
                                 "every ready batch balances"),
            "bank_line_against_deposit": md_table(["batch", "payout", "bank line", "deposit"], bank_differs,
                                                "every ready batch's bank line is the deposit"),
            "held": md_table(["batch", "provider", "payout", "posting date", "reasons"], held, "no batch is held"),
        },
    )
