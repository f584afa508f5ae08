"""Reload business days of raw data from the landing zone, as a replay does: no vendor API involved.

The landing zone keeps every page and file as it came; the raw tables are what loading them made. Reloading
a range drops the raw rows that came from files landed under those days and loads the files again, so a fixed
parser, a damaged raw table or a doubt about the warehouse is settled from the landing zone alone
(`omnirecon replay`, orchestration/operations.py, then rebuilds the marts).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ReplayReport:
    rows_dropped: dict[str, int] = field(default_factory=dict)  # raw table -> rows dropped before reloading
    files_reloaded: dict[str, int] = field(default_factory=dict)  # landing source -> files loaded again
    rows_reloaded: dict[str, int] = field(default_factory=dict)  # raw table -> rows inserted again

    def line(self) -> str:
        return (f"dropped {sum(self.rows_dropped.values())} raw rows, reloaded {sum(self.files_reloaded.values())} "
                f"landed files ({sum(self.rows_reloaded.values())} rows)")


def _raw_schemas() -> dict[str, object]:
    """Each raw schema once, with a module that names its tables (sources may share a schema)."""
    from connectors.raw_load import RAW_SOURCES

    return {module.SCHEMA: module for module in RAW_SOURCES.values()}


def reload_raw_tables(warehouse, landing, days: list[str]) -> ReplayReport:
    """Reload what was landed for `days` into the raw tables: drop every raw row that came from a file landed
    under one of those days, forget those files, and load them again, day by day in the order they were
    landed. A row that an earlier day's file also holds stays (its first file is outside the range); one
    that only these days hold comes back from its file, so the raw tables end as a first load left them."""
    from connectors.raw_load import RAW_SOURCES, ensure_every_raw_table, load_landed_files
    from connectors.webhooks import raw_tables as webhook_raw_tables

    report = ReplayReport()
    ensure_every_raw_table(warehouse)
    marks = ", ".join("?" * len(days))
    warehouse.begin()
    try:
        for schema, module in _raw_schemas().items():
            landed = f"select landed_file from {schema}._landed_files where partition_key in ({marks})"
            for table in [*module.RAW_TABLES, "_quarantine"]:
                before = warehouse.fetchall(f"select count(*) from {schema}.{table}")[0][0]
                warehouse.execute(f"delete from {schema}.{table} where _landed_file in ({landed})", days)
                dropped = before - warehouse.fetchall(f"select count(*) from {schema}.{table}")[0][0]
                if dropped:
                    report.rows_dropped[f"{schema}.{table}"] = dropped
            warehouse.execute(f"delete from {schema}._landed_files where partition_key in ({marks})", days)
        webhook_raw_tables.forget_listings(warehouse)  # should the reload below fail, the next webhook load finds them
        warehouse.commit()
    except BaseException:
        warehouse.rollback()
        raise
    for day in days:
        for source, module in RAW_SOURCES.items():
            files = sorted(landing.files(source, partition=day, suffix=""), key=lambda p: (p.stat().st_mtime_ns, p))
            if not files:
                continue
            loaded = load_landed_files(warehouse, files, source=source)
            report.files_reloaded[source] = report.files_reloaded.get(source, 0) + loaded.files_loaded
            for table, rows in loaded.rows_inserted.items():
                key = f"{module.SCHEMA}.{table}"
                report.rows_reloaded[key] = report.rows_reloaded.get(key, 0) + rows
    return report
