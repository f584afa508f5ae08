"""The night without a person: every API source pulls the business day that ended, then the close builds on it.

What runs when (America/New_York, the legal entity's business day; every schedule is running from the first
deployment on):

    01:00  erp_daily_pull        yesterday's partition    (each pull's time: its ApiSource in defs/<source>/)
    02:00  shopify_daily_pull    yesterday's partition
    02:10  stripe_daily_pull     yesterday's partition
    02:20  amazon_daily_pull     yesterday's partition
    02:30  wms_daily_pull        yesterday's partition
    04:00  square_daily_pull     yesterday's partition: each store's day ends in its own time zone, San
                                 Francisco's at 03:00 New York time
    05:00  reconciliation_build  the close (this module): dbt build, posting gate, ERP export, ATS publication
    */15   ats_cycle             today's WMS movements and the ATS (defs/inventory/definitions.py)

Why a schedule for the close, not declarative automation (AutomationCondition): the dbt models are one
unpartitioned asset downstream of six daily pulls, seven inbox folders and the webhook events, which land at
any hour. `eager()` would rebuild every model, and re-export to the ERP, after each of them; `on_cron()` waits
until every dependency updated since the tick, and an inbox that gets no file that day (no bank statement on a
Sunday) would hold the close back for good. A close at a stated hour after the last pull is what finance
expects ("yesterday is closed at 05:00") and what the Schedules page of the UI shows as it is: one tick a
night, each run tagged with the business day it closes.

A pull that fails does not hold the close back: the close builds with what has landed (the raw data-quality
checks leave a failing source out, the posting gate stops an export that does not balance), run_failure_alert
says which pull failed, and the next close, a full dbt build, takes the day in once the pull is re-run.
"""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, schedule

from orchestration.defs.finance.definitions import reconciliation_build
from orchestration.partitions import ENTITY_TIME_ZONE

# An hour after the last pull starts (the stores' POS at 04:00): margin for a slow vendor API.
CLOSE_HOUR = 5
BUSINESS_DAY_TAG = "omnirecon/business_day"


def business_day_closed(tick: datetime) -> str:
    """The business day a close at `tick` closes: the entity's day that ended at the last midnight, New York time."""
    return (tick.astimezone(ZoneInfo(ENTITY_TIME_ZONE)).date() - timedelta(days=1)).isoformat()


@schedule(name="reconciliation_build_schedule", job=reconciliation_build, cron_schedule=f"0 {CLOSE_HOUR} * * *",
          execution_timezone=ENTITY_TIME_ZONE, default_status=DefaultScheduleStatus.RUNNING,
          description=f"The daily close at {CLOSE_HOUR:02d}:00 {ENTITY_TIME_ZONE}, after every API source pulled "
                      "yesterday: dbt build, posting gate, ERP export and ATS publication.")
def reconciliation_build_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    # A tick evaluated by hand in the UI ("Test schedule") may come without a time: close the day that ended.
    day = business_day_closed(context.scheduled_execution_time or datetime.now(ZoneInfo(ENTITY_TIME_ZONE)))
    # The close job is partitioned by business day (finance/daily_close): the run closes that partition.
    return RunRequest(run_key=f"close-{day}", partition_key=day, tags={BUSINESS_DAY_TAG: day})
