"""The gate in front of the ERP: no posting batch leaves unless it balances, its bank line is what the
bank received, and the dbt tests of everything it is built from passed.

dbt marks each batch ready or blocked with its reasons (docs/postings.md); this check does not trust that
alone. It recomputes every ready batch's debits and credits from its journal lines (in the transaction
and the functional currency), compares a payout's bank line with the deposit on the bank statement, and
reads the latest result of every dbt test upstream of the postings. It is blocking: when it fails, the
export in the same run is skipped and the check's metadata names the batches or tests. Blocked batches
are held, not failures: they are listed with their reasons, and the other batches go on.
"""

import json

from dagster import AssetCheckExecutionContext, AssetCheckKey, AssetCheckResult, AssetCheckSeverity, AssetKey, asset_check
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from orchestration.defs.dbt.assets import omnirecon_dbt_models
from orchestration.defs.dbt.project import omnirecon_dbt
from orchestration.resources import WarehouseResource
from orchestration.run_metadata import md_table

POSTING_BATCHES = AssetKey(["marts", "posting_batches"])
JOURNAL_LINES = AssetKey(["marts", "journal_lines"])

UNBALANCED_BATCHES_SQL = """
with line_totals as (
    select batch_id, currency, sum(debit_amount) as debit, sum(credit_amount) as credit,
           sum(functional_debit_amount) as functional_debit, sum(functional_credit_amount) as functional_credit
    from marts.journal_lines
    group by batch_id, currency
)
select b.batch_id, b.payout_id, b.currency,
       coalesce(l.debit, 0) as debit, coalesce(l.credit, 0) as credit,
       coalesce(l.functional_debit, 0) as functional_debit, coalesce(l.functional_credit, 0) as functional_credit
from marts.posting_batches b
left join line_totals l on l.batch_id = b.batch_id and l.currency = b.currency
where b.status = 'ready'
    and (l.batch_id is null or l.debit <> l.credit or l.debit <> b.total_debit or l.credit <> b.total_credit
         or l.functional_debit <> l.functional_credit)
order by b.batch_id
"""

# A ready payout batch's bank line against the deposit the bank statement shows for its payout (a batch of
# an earlier month has no bank line: the money arrives in the payout's month).
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
where b.status = 'ready' and b.posting_date = p.payout_date
    and (p.deposit_amount is null or coalesce(l.amount, 0) <> p.deposit_amount)
order by b.batch_id
"""

HELD_BATCHES_SQL = """
select batch_id, journal_type, coalesce(provider, location_id), payout_id, posting_date, blocked_reason
from marts.posting_batches where status = 'blocked' order by posting_date, journal_type, batch_id
"""


POSTING_MODELS = ("model.omnirecon.posting_batches", "model.omnirecon.journal_lines")


def unbalanced_batches(warehouse) -> list[tuple]:
    return warehouse.fetchall(UNBALANCED_BATCHES_SQL)


def upstream_test_checks(manifest: dict) -> list[AssetCheckKey]:
    """The dbt tests (as Dagster asset checks) of every model and seed the postings are built from."""
    parents = manifest["parent_map"]
    upstream, todo = set(), list(POSTING_MODELS)
    while todo:
        node = todo.pop()
        if node not in upstream:
            upstream.add(node)
            todo.extend(parents.get(node, []))
    nodes = {**manifest["nodes"], **manifest.get("sources", {})}
    asset_keys = {AssetKey([nodes[n]["schema"], nodes[n]["name"]]) for n in upstream if n in nodes}
    return sorted((key for key in omnirecon_dbt_models.check_keys if key.asset_key in asset_keys),
                  key=lambda key: key.to_user_string())


def failed_upstream_tests(instance) -> list[AssetCheckKey]:
    """Upstream dbt tests of severity error whose latest evaluation failed (a test never run is not a
    failure; a warning, such as a payout that does not tie out, holds its own batch and no other)."""
    manifest = json.loads(omnirecon_dbt.manifest_path.read_text())
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(upstream_test_checks(manifest))
    return [key for key, record in latest.items()
            if record.status == AssetCheckExecutionRecordStatus.FAILED and _severity(record) == AssetCheckSeverity.ERROR]


def _severity(record) -> AssetCheckSeverity:
    evaluation = record.event.dagster_event.event_specific_data if record.event else None
    return getattr(evaluation, "severity", AssetCheckSeverity.ERROR)


@asset_check(asset=POSTING_BATCHES, additional_deps=[JOURNAL_LINES], blocking=True,
             description="Every ready posting batch balances (debits equal credits per currency, from its lines, also in "
                         "the functional currency), "
                         "and its bank line equals the bank deposit; blocked batches are held with their reasons.")
def posting_batches_balance(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
    failed_tests = failed_upstream_tests(context.instance)
    with warehouse.connect() as wh:
        unbalanced = unbalanced_batches(wh)
        bank_differs = wh.fetchall(BANK_LINE_DIFFERS_SQL)
        held = wh.fetchall(HELD_BATCHES_SQL)
        batch_count = wh.fetchall("select count(*) from marts.posting_batches")[0][0]
    failed = bool(unbalanced or bank_differs or failed_tests)
    return AssetCheckResult(
        passed=not failed,
        severity=AssetCheckSeverity.ERROR,
        description=(f"{len(unbalanced)} ready batches do not balance, {len(bank_differs)} have a bank line "
                     f"other than the deposit and {len(failed_tests)} upstream dbt tests failed; export blocked."
                     if failed else
                     f"{batch_count - len(held)} batches ready, {len(held)} held with their reasons."),
        metadata={
            "batches": batch_count,
            "ready_batches": batch_count - len(held),
            "held_batches": len(held),
            "unbalanced_batches": len(unbalanced),
            "bank_line_differs": len(bank_differs),
            "failed_upstream_dbt_tests": len(failed_tests),
            "unbalanced": md_table(["batch", "payout", "currency", "debit", "credit", "functional debit",
                                    "functional credit"], unbalanced, "every ready batch balances"),
            "bank_line_against_deposit": md_table(["batch", "payout", "bank line", "deposit"], bank_differs,
                                                "every ready batch's bank line is the deposit"),
            "held": md_table(["batch", "journal", "provider or location", "payout", "posting date", "reasons"], held,
                             "no batch is held"),
            "upstream_dbt_tests": md_table(["failed test"], [(key.to_user_string(),) for key in failed_tests],
                                           "every upstream dbt test passed"),
        },
    )
