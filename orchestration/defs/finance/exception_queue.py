"""After each build, bring finance's exception queue up to date and show where it stands.

The queue itself (finance_state, outside dbt) and its rules live in orchestration/exception_queue.py;
this asset only calls it with the run's time and turns the result into run metadata.
"""
from datetime import datetime, timezone
from decimal import Decimal

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.exception_queue import (ageing_buckets, ageing_chart, list_queue, match_rate_by_provider,
                                           open_amount_by_currency, open_by_reason, payout_tie_out,
                                           sync_queue)
from orchestration.resources import WarehouseResource
from orchestration.run_metadata import md_table

RECONCILIATION_EXCEPTIONS = AssetKey(["marts", "reconciliation_exceptions"])
SETTLEMENT_LINES = AssetKey(["marts", "settlement_lines"])
SETTLEMENT_MATCHES = AssetKey(["marts", "settlement_matches"])
PAYOUTS = AssetKey(["marts", "payouts"])


def _run_started_at(context: AssetExecutionContext) -> datetime:
    # The run's start, not the step's: a retried step records the same sighting, not a later one.
    record = context.instance.get_run_record_by_id(context.run_id)
    started = record.start_time if record is not None else None
    return datetime.fromtimestamp(started, timezone.utc) if started else datetime.now(timezone.utc)


@asset(key=AssetKey(["finance", "exception_queue"]),
       deps=[RECONCILIATION_EXCEPTIONS, SETTLEMENT_LINES, SETTLEMENT_MATCHES, PAYOUTS], group_name="finance",
       pool="warehouse_writer",  # it writes finance_state: one DuckDB writer at a time
       description="Finance's exception queue (finance_state.exception_queue): opened, closed when the data "
                   "resolves them, reopened, and kept with people's decisions across rebuilds.")
def exception_queue(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    seen_at = _run_started_at(context)
    with warehouse.connect() as wh:
        changes = sync_queue(wh, seen_at)
        by_reason = open_by_reason(wh)
        by_currency = open_amount_by_currency(wh)
        buckets = ageing_buckets(list_queue(wh, status="open", today=seen_at.date()))
        match_rates = match_rate_by_provider(wh)
        tie_out = payout_tie_out(wh)
    context.log.info(f"exception queue as of {seen_at.isoformat()}: {changes.counts()}")
    return MaterializeResult(metadata={
        "seen_at": seen_at.isoformat(),
        "opened": len(changes.opened),
        "closed": len(changes.closed),
        "reopened": len(changes.reopened),
        "still_open": len(changes.still_open),
        "open_exceptions": sum(count for _, _, count, _ in by_reason),
        "open_by_reason": md_table(["reason", "currency", "count", "amount"],
                                    [[r, c, n, f"{a:.2f}"] for r, c, n, a in by_reason], "no open exceptions"),
        "open_amount_by_currency": md_table(["currency", "count", "amount"],
                                             [[c, n, f"{a:.2f}"] for c, n, a in by_currency], "no open exceptions"),
        "ageing": md_table(["age", "open exceptions"], [[name, n] for name, n in buckets.items()], "no buckets"),
        "ageing_chart": MetadataValue.md("```\n" + ageing_chart(buckets) + "\n```"),
        "auto_match_rate_by_provider": md_table(
            ["provider", "matchable lines", "matched", "auto-match rate", "unmatched amount"],
            [[p, m, n, f"{rate:.2%}", f"{amount:.2f}"] for p, m, n, rate, amount in match_rates],
            "no settlement lines"),
        "payout_tie_out": md_table(["provider", "tie-out", "payouts", "stated amount"],
                                    [[p, status, n, f"{a:.2f}"] for p, status, n, a in tie_out], "no payouts"),
        "unmatched_amount": MetadataValue.float(float(sum((amount for *_, amount in match_rates), Decimal(0)))),
    })
