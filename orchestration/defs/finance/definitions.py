from dagster import AssetSelection, Definitions, define_asset_job

from orchestration.defs.dbt.assets import omnirecon_dbt_models
from orchestration.defs.finance.daily_close import daily_close
from orchestration.defs.finance.erp_export import erp_posting_export
from orchestration.defs.finance.exception_queue import exception_queue
from orchestration.defs.finance.posting_gate import posting_batches_balance
from orchestration.defs.finance.reconciliation_report import reconciliation_summary
from orchestration.defs.inventory.publication import ats_publication
from orchestration.partitions import business_days

# The close, one job: the dbt build, the posting gate (a blocking check: it stops the export in the same run),
# the ERP export, the exception queue, the summary, the ATS publication, and last finance/daily_close, the
# business days it closed. Dagster 1.13 lets a job mix one partitions definition with unpartitioned assets:
# daily_close is partitioned by business day with a single-run backfill policy, so the job is partitioned
# and its backfill policy is single run. A run for a day, or a backfill of a range, is one run: one full dbt
# build and one export, which work on all the data whatever the days, then the days recorded as closed.
# Splitting the finance assets into a job of their own would put the gate and the export in different runs,
# where a failing gate no longer stops the export.
reconciliation_build = define_asset_job(
    "reconciliation_build",
    selection=AssetSelection.assets(omnirecon_dbt_models, erp_posting_export, reconciliation_summary, exception_queue,
                                    ats_publication, daily_close),
    partitions_def=business_days,
    description="The daily close of a business day (or, in a backfill, of a range of them in one run): build the "
                "dbt models (staging, canonical, settlement matching, postings, ATS), report, gate, export, "
                "publish the ATS that changed, and record the days closed.")

# Its schedule follows the night's pulls, so it lives with them: orchestration/defs/automation/schedules.py.
defs = Definitions(assets=[erp_posting_export, reconciliation_summary, exception_queue, daily_close],
                   asset_checks=[posting_batches_balance], jobs=[reconciliation_build])
