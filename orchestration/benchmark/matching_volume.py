"""Settlement matching at peak-season volume, measured without a peak-season sandbox.

A sandbox of a million orders a day does not fit this machine (~15 KB an order in the simulator), but the
matching only reads three marts. So, after a bench's close, a copy of its warehouse gets those marts
(settlement_lines, payments, orders) repeated: copy k of every row has "~k" appended to each identifier and
reference (and to its currency), so every copy is a world of its own whose lines can only match its own
counterparts. Then, on that copy, dbt rebuilds the matching models (`dbt run`, as the close does, with the
exception queue that reads their outcomes, timed apart) and the hand-written baseline
(matching_baseline.MATCHES_SQL) runs as one `create table`: the ratio of their times is the issue's "matching within 2x of a single DuckDB SQL pass", at the size asked for. The ratio divides by
the baseline writing its table to the warehouse, as dbt writes the mart (and commits it), first thing in a
fresh connection, as dbt's run is; its time into a table held in memory, run next, is reported beside it.

It checks what it measures: the mart holds exactly `copies` x the close's matches, and the baseline's
matches equal the mart's (EXCEPT ALL both ways, in DuckDB, not in Python).

What it does not show: the currency suffix keeps the amount_tolerance pass's candidates (lines with no
reference, matched by amount and date within a provider and currency) as sparse as in the small sandbox,
where a real peak day would have denser ones. Such lines are ~1% of the sandbox's.
"""
from __future__ import annotations

import json
import math
import shutil
import sys
import time
from pathlib import Path

from connectors.warehouse import duckdb_settings
from orchestration import local_paths
from orchestration.benchmark.matching_baseline import DBT_MATCHING_MODELS, MART_SQL, MATCHES_SQL
from orchestration.benchmark.memory import Measured, run_measured

# Built with the matching models, as the close does, but not the baseline's work: the queue of what is left.
EXCEPTIONS_MODEL = "reconciliation_exceptions"

# The matching's inputs, and their columns that name a record or point at one (plus currency, the key
# every pass also joins on: see the module's docstring)
REPEATED_COLUMNS = {
    "settlement_lines": ("settlement_line_id", "order_reference", "payment_reference", "currency"),
    "payments": ("payment_id", "provider_reference", "order_id", "currency"),
    "orders": ("order_id", "currency"),
}


def copies_for(orders_per_day: int, sandbox_orders_per_day: float) -> int:
    return max(1, math.ceil(orders_per_day / sandbox_orders_per_day))


def repeat_matching_inputs(connection, copies: int) -> dict[str, int]:
    """Replace each input mart by `copies` copies of itself with distinct keys; returns the rows of each."""
    rows = {}
    for table, columns in REPEATED_COLUMNS.items():
        keyed = ", ".join(f"{column} || '~' || copy as {column}" for column in columns)
        connection.execute(f"create table marts.{table}__copies as select original.* replace ({keyed}) "
                           f"from marts.{table} as original, range({copies}) as copies(copy)")
        connection.execute(f"drop table marts.{table}")
        connection.execute(f"alter table marts.{table}__copies rename to {table}")
        rows[table] = connection.execute(f"select count(*) from marts.{table}").fetchone()[0]
    return rows


def _run_matching_models(duckdb_path: Path, work: Path, env: dict[str, str]) -> tuple[dict[str, float], Measured]:
    """`dbt run` of the matching models and the exception queue on the copy; each model's execution time, and
    the measured process."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    command = [dbt, "run", "--select", *DBT_MATCHING_MODELS, EXCEPTIONS_MODEL, "--target", "duckdb",
               "--project-dir", str(local_paths.DBT_PROJECT_DIR), "--profiles-dir", str(local_paths.DBT_PROJECT_DIR),
               "--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    measured = run_measured(command, {**env, "OMNIRECON_DUCKDB_PATH": str(duckdb_path)}, str(work),
                            work / "dbt.log")
    if measured.returncode != 0:
        raise RuntimeError(f"dbt run of the matching models failed (exit {measured.returncode}): see "
                           f"{work / 'dbt.log'}")
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    seconds = {result["unique_id"].split(".")[-1]: result["execution_time"] for result in results}
    return {name: seconds.get(name, 0.0) for name in (*DBT_MATCHING_MODELS, EXCEPTIONS_MODEL)}, measured


def _baseline(connection) -> tuple[dict[str, float], dict[str, int]]:
    """The baseline, timed as a table written to the warehouse (as dbt's model is), then as one held in
    memory; then its rows against the mart's."""
    connection.execute("set TimeZone = 'UTC'")
    seconds = {}
    for kind, create in (("written", "create table marts.baseline_matches"),
                         ("in_memory", "create temp table baseline_in_memory")):
        started = time.perf_counter()
        connection.execute(f"{create} as {MATCHES_SQL}")
        seconds[kind] = time.perf_counter() - started
    differ = {
        "only_in_baseline": f"select * from marts.baseline_matches except all {MART_SQL}",
        "only_in_mart": f"{MART_SQL} except all select * from marts.baseline_matches",
    }
    return seconds, {name: connection.execute(f"select count(*) from ({sql})").fetchone()[0]
                     for name, sql in differ.items()}


def matching_at_volume(closed_warehouse: Path, orders_per_day: int, days: int, work: Path,
                       env: dict[str, str]) -> dict:
    """The matching models and the baseline on the close's warehouse (of `days` days) repeated to
    `orders_per_day`."""
    import duckdb

    work.mkdir(parents=True, exist_ok=True)
    # the same file name every time: dbt's partial parse stays valid from one size to the next
    warehouse = work / "warehouse.duckdb"
    shutil.copyfile(closed_warehouse, warehouse)
    with duckdb.connect(str(warehouse), config=duckdb_settings()) as connection:
        closed_orders, = connection.execute("select count(*) from marts.orders").fetchone()
        closed_matches, = connection.execute("select count(*) from marts.settlement_matches").fetchone()
        copies = copies_for(orders_per_day, closed_orders / days)
        started = time.perf_counter()
        rows = repeat_matching_inputs(connection, copies)
        repeat_seconds = time.perf_counter() - started
    dbt_seconds, dbt_process = _run_matching_models(warehouse, work, env)
    with duckdb.connect(str(warehouse), config=duckdb_settings()) as connection:
        baseline_seconds, differences = _baseline(connection)
        matches, = connection.execute("select count(*) from marts.settlement_matches").fetchone()
    warehouse.unlink()
    dbt_total = sum(dbt_seconds[name] for name in DBT_MATCHING_MODELS)
    return {
        "orders_per_day": round(copies * closed_orders / days),
        "copies": copies,
        "rows": rows,
        "repeat_seconds": round(repeat_seconds, 3),
        "dbt_models_seconds": {name: round(seconds, 3) for name, seconds in dbt_seconds.items()},
        "dbt_seconds": round(dbt_total, 3),
        "exceptions_seconds": round(dbt_seconds[EXCEPTIONS_MODEL], 3),
        "dbt_process_seconds": round(dbt_process.seconds, 3),
        "dbt_peak_rss_mb": round(dbt_process.peak_tree_kb() / 1024, 1),
        "baseline_seconds": round(baseline_seconds["written"], 3),
        "baseline_in_memory_seconds": round(baseline_seconds["in_memory"], 3),
        "dbt_to_baseline_ratio": round(dbt_total / baseline_seconds["written"], 2),
        "matches": matches,
        "expected_matches": copies * closed_matches,
        **differences,
        "equal": matches == copies * closed_matches and not any(differences.values()),
    }
