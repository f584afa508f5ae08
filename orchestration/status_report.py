"""`omnirecon status`: what ran, which business days are closed, and where finance stands, as plain text.

From the Dagster instance: the latest runs and backfills, and the partitions of finance/daily_close. From the
warehouse, read only: open exceptions by reason, posting batches ready and held (with why), the last ERP
postings. A part not built yet says so instead of failing the rest.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from dagster import AssetKey, DagsterInstance

from orchestration.partitions import business_days_of_run

DAILY_CLOSE = AssetKey(["finance", "daily_close"])  # one partition per business day closed (defs/finance)
REPLAYED_TAG = "omnirecon/replayed_business_days"  # on the rebuild run of `omnirecon replay`




def day_ranges(days: Iterable[str]) -> list[tuple[str, str]]:
    """Consecutive business days folded into (first, last) ranges, in order."""
    from datetime import date, timedelta

    ranges: list[list[date]] = []
    for day in sorted(date.fromisoformat(d) for d in set(days)):
        if ranges and day - ranges[-1][1] == timedelta(days=1):
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return [(first.isoformat(), last.isoformat()) for first, last in ranges]


def render_table(header: list[str], rows: list[list], empty: str, indent: str = "  ") -> str:
    if not rows:
        return indent + empty
    cells = [header] + [["" if value is None else str(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join(indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in cells)


def _run_days(tags) -> str:
    if tags.get(REPLAYED_TAG):
        return f"{tags[REPLAYED_TAG]} (replay)"
    return business_days_of_run(tags) or ""


def _utc(timestamp: float | None) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M") if timestamp else ""


def instance_status(instance: DagsterInstance, runs: int = 10) -> str:
    """Latest runs, the business days the close has built, and the latest backfills."""
    rows = []
    for record in instance.get_run_records(limit=runs):
        run = record.dagster_run
        took = f"{record.end_time - record.start_time:.0f}s" if record.start_time and record.end_time else ""
        rows.append([_utc(record.start_time or record.create_timestamp.timestamp()), run.job_name,
                     _run_days(run.tags), run.status.value.lower(), took, run.run_id[:8]])
    closed = instance.get_materialized_partitions(DAILY_CLOSE)
    ranges = day_ranges(closed)
    days = ", ".join(first if first == last else f"{first}..{last}" for first, last in ranges)
    backfills = [[b.backfill_id, b.status.value.lower(), _utc(b.backfill_timestamp), b.title or ""]
                 for b in instance.get_backfills(limit=5)]
    return "\n".join([
        "Latest runs:",
        render_table(["started (UTC)", "job", "business days", "status", "took", "run"], rows, "no runs yet"),
        f"Business days closed ({DAILY_CLOSE.to_user_string()} materialized): "
        + (f"{len(closed)} ({days})" if closed else "none yet"),
        "Latest backfills:",
        render_table(["backfill", "status", "requested (UTC)", "what"], backfills, "none"),
    ])


STATUS_QUERIES = (
    ("Open exceptions by reason (finance_state.exception_queue):", ["reason", "currency", "count", "amount"],
     "select reason_code, currency, count(*), sum(amount) from finance_state.exception_queue "
     "where status = 'open' group by reason_code, currency order by reason_code, currency",
     "no open exceptions"),
    ("Posting batches (marts.posting_batches):", ["status", "batches", "first posting date", "last posting date"],
     "select status, count(*), min(posting_date), max(posting_date) from marts.posting_batches "
     "group by status order by status",
     "no posting batches yet"),
    ("Held batches, newest first:", ["batch", "journal", "provider or location", "posting date", "why held"],
     "select batch_id, journal_type, coalesce(provider, location_id), posting_date, blocked_reason "
     "from marts.posting_batches where status = 'blocked' order by posting_date desc, batch_id limit 10",
     "no batch is held"),
    ("Last ERP postings (outbound.erp_postings):", ["pushed (UTC)", "batch", "status", "ERP document"],
     "select pushed_at, batch_id, status, document_number from outbound.erp_postings "
     "order by pushed_at desc, batch_id limit 10",
     "nothing posted yet"),
)


def warehouse_status(fetchall: Callable[[str], list[tuple]]) -> str:
    """What finance looks at, from the warehouse; a part not built yet says so."""
    from decimal import Decimal

    def cell(value):
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") and hasattr(value, "hour") else value

    parts = []
    for title, header, sql, empty in STATUS_QUERIES:
        try:
            rows = [[cell(value) for value in row] for row in fetchall(sql)]
        except Exception as error:  # a schema that no build made yet: say so, show the rest
            rows, empty = [], f"not available yet ({str(error).splitlines()[0][:120]})"
        parts += [title, render_table(header, rows, empty)]
    return "\n".join(parts)


def read_only_fetchall(target: str, duckdb_path, dsn: str | None = None):
    """A query function that never writes: DuckDB opened read-only (and not created when missing), or
    PostgreSQL. Returns (fetchall, close); None when there is no DuckDB warehouse yet."""
    if target == "postgres":
        from connectors.warehouse import connect

        warehouse = connect(dsn)
        return warehouse.fetchall, warehouse.close
    import duckdb

    if not duckdb_path.exists():
        return None
    connection = duckdb.connect(str(duckdb_path), read_only=True)
    return (lambda sql: connection.execute(sql).fetchall()), connection.close
