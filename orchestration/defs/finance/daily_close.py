"""Which business days are closed: one partition per day, materialized by the close that closed it.

The close (`reconciliation_build`) rebuilds every dbt model in full from all the raw data and exports what is
ready, whatever the day; this asset is what makes it a close *of business days*. It is partitioned by business
day with a single-run backfill policy, so the close job is partitioned too: a run for one day closes that
day, a backfill over a range is ONE run (one dbt build, one export) that closes every day of it, and the UI
and `omnirecon status` show the days closed. It runs last, after the ERP export: a day whose posting gate
failed, or whose export did not run, is not closed.

The dbt models are not partitioned themselves (orchestration/defs/dbt/assets.py says why); a close run
without a business day (an ad hoc run from the asset graph) rebuilds and exports the same way and records no
day here.
"""

import warnings

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy, BetaWarning, Failure, MaterializeResult, asset

from orchestration.defs.finance.erp_export import erp_posting_export
from orchestration.defs.finance.exception_queue import exception_queue
from orchestration.partitions import business_days
from orchestration.resources import WarehouseResource
from orchestration.run_metadata import md_table

DAILY_CLOSE = AssetKey(["finance", "daily_close"])
ERP_EXPORT = AssetKey(["outbound", "erp_posting_export"])

BATCHES_OF_THE_DAYS_SQL = """
select posting_date, journal_type, status, count(*)
from marts.posting_batches
where posting_date between ? and ?
group by posting_date, journal_type, status
order by posting_date, journal_type, status
"""


# backfill_policy on @asset is "beta" in Dagster 1.13 and warns on every load of the code location; the
# single-run policy is what makes a range one run, and tests/end_to_end/test_backfill.py fails if it stops being so.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", BetaWarning)

    @asset(key=DAILY_CLOSE, deps=[erp_posting_export, exception_queue], partitions_def=business_days,
           backfill_policy=BackfillPolicy.single_run(), output_required=False, group_name="finance",
           description="One partition per business day closed by reconciliation_build: the dbt build, the posting "
                       "gate and the ERP export ran for it. A backfill closes a range of days in one run.")
    def daily_close(context: AssetExecutionContext, warehouse: WarehouseResource):
        if not (context.has_partition_key or context.has_partition_key_range):
            context.log.info("this close names no business day: the marts are rebuilt and exported, no day is "
                             "recorded as closed (run reconciliation_build for a day or a range to close it)")
            return
        export = context.instance.get_latest_materialization_event(ERP_EXPORT)
        if export is None or export.run_id != context.run_id:
            # materialized alone (a backfill of this asset from the asset graph): nothing was built or exported
            raise Failure("business days are closed by the close job, reconciliation_build, with its dbt build and "
                          "ERP export: run it for the day or the range instead of this asset alone")
        days = context.partition_key_range
        with warehouse.connect() as wh:
            batches = wh.fetchall(BATCHES_OF_THE_DAYS_SQL, [days.start, days.end])
        yield MaterializeResult(metadata={
            "business_days": days.start if days.start == days.end else f"{days.start}..{days.end}",
            "ready_batches": sum(count for *_, status, count in batches if status == "ready"),
            "held_batches": sum(count for *_, status, count in batches if status == "blocked"),
            "batches_by_day": md_table(["posting date", "journal", "status", "batches"], batches,
                                       "no posting batch dated in these days"),
        })
