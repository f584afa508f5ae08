from dagster import AssetSelection, Definitions, define_asset_job

from orchestration.defs.dbt.assets import omnirecon_dbt_models
from orchestration.defs.finance.erp_export import erp_posting_export
from orchestration.defs.finance.exception_queue import exception_queue
from orchestration.defs.finance.posting_gate import posting_batches_balance
from orchestration.defs.finance.reconciliation_report import reconciliation_summary
from orchestration.defs.inventory.publication import ats_publication

reconciliation_build = define_asset_job(
    "reconciliation_build",
    selection=AssetSelection.assets(omnirecon_dbt_models, erp_posting_export, reconciliation_summary, exception_queue,
                                    ats_publication),
    description="The daily close: build the dbt models (staging, canonical, settlement matching, postings, ATS), "
                "report, gate, export, and publish the ATS that changed.")

# Its schedule follows the night's pulls, so it lives with them: orchestration/defs/automation/schedules.py.
defs = Definitions(assets=[erp_posting_export, reconciliation_summary, exception_queue],
                   asset_checks=[posting_batches_balance], jobs=[reconciliation_build])
