"""`omnirecon bench`: build a sandbox of the given size, run the whole pipeline on it in child processes,
measure each stage, check the result against the sandbox's truth, and write the report."""
from __future__ import annotations

import os
import platform
import time
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from connectors.sandbox.simulator import SandboxConfig, daily_orders
from orchestration import local_paths
from orchestration.benchmark import close_stages
from orchestration.benchmark.matching_baseline import compare_with_mart
from orchestration.benchmark.matching_volume import matching_at_volume
from orchestration.benchmark.memory import Measured, TreeSampler
from orchestration.benchmark.processes import (bench_env, fresh_home, remove_dbt_artifacts, run_child, start_sandbox,
                                               stop_sandbox, verify_with_sandbox)
from orchestration.benchmark.report import STAGES, render, stage, write_json
from orchestration.operations import Progress

BENCH_ROOT = local_paths.REPO_ROOT / ".omnirecon" / "bench"  # never the user's own home or warehouse


def bench_config(orders_per_day: int, days: int, seed: int, start_date: date | None = None) -> SandboxConfig:
    """The sandbox to measure: about `orders_per_day` orders a day across every channel, in the default world's
    channel mix; the default start date unless its last day has no partition yet (it must have ended), then
    the latest days that have."""
    from orchestration.partitions import last_closed_business_day

    config = SandboxConfig.for_orders_per_day(orders_per_day, seed=seed, days=days)
    if start_date is not None:
        return replace(config, start_date=start_date)
    latest_start = last_closed_business_day() - timedelta(days=days - 1)
    return replace(config, start_date=min(config.start_date, latest_start))


def default_json_path() -> Path:
    return BENCH_ROOT / f"bench-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.json"


def _steps(runs: list[dict]):
    return [step for run in runs for step in run["steps"]]


def ingest_stage(measured: Measured, result: dict, raw_rows: int) -> dict:
    """The ingest child's whole wall time, split by step kind: API pulls landing pages, raw loads (an inbox
    step lands and loads a file in one step: counted here), the Great Expectations suites, and the rest
    (process start-up, loading the definitions, Dagster's own work around each run)."""
    split = {"api_pull_landing": 0.0, "raw_load": 0.0, "data_quality": 0.0}
    for step in _steps(result["runs"]):
        kind = ("api_pull_landing" if step["step"].startswith("landing__")
                else "data_quality" if step["step"].endswith("_expectations") else "raw_load")
        split[kind] += step["end"] - step["start"]
    split["process_and_dagster"] = measured.seconds - sum(split.values())
    return stage(measured.seconds, raw_rows, measured.peak_tree_kb(), "rows in the raw_* tables (every version "
                 "landed, quarantine included)", split_seconds={k: round(v, 3) for k, v in split.items()},
                 runs=len(result["runs"]), cpu_seconds=round(measured.cpu_seconds, 3),
                 max_rss_single_process_mb=round(measured.max_rss_kb / 1024, 1))


def close_split(measured: Measured, result: dict, duckdb_path: str) -> tuple[dict, dict, dict]:
    """transform, matching, postings, ats and export from the close's one run; the dbt and process overheads;
    every dbt model's seconds by name."""
    steps = _steps(result["runs"])
    dbt_step = next(s for s in steps if s["step"] == close_stages.DBT_STEP)
    nodes = close_stages.dbt_nodes(close_stages.close_target_dir(local_paths.DBT_PROJECT_DIR / "target",
                                                                 result["close_run_id"]))
    rows = close_stages.table_rows(duckdb_path, {n["table"] for n in nodes if n["table"]})
    stages = {}
    for name in close_stages.DBT_STAGES:
        mine = [n for n in nodes if n["stage"] == name]
        tables = sorted({n["table"] for n in mine if n["table"]})
        stages[name] = stage(sum(n["seconds"] for n in mine), sum(rows[t] for t in tables),
                             measured.peak_tree_kb([n["window"] for n in mine if n["window"]]),
                             "rows of the stage's models built as tables (views hold none)",
                             nodes=len(mine), tests=sum(1 for n in mine if n["unique_id"].startswith("test.")),
                             tests_seconds=round(sum(n["seconds"] for n in mine
                                                     if n["unique_id"].startswith("test.")), 3),
                             tables={t: rows[t] for t in tables})
    others = [s for s in steps if s["step"] != close_stages.DBT_STEP]
    erp, ats = result.get("erp_export", {}), result.get("ats_publication", {})
    stages["export"] = stage(sum(s["end"] - s["start"] for s in others),
                             erp.get("batches_written", 0) + ats.get("pushed", 0),
                             measured.peak_tree_kb([(s["start"], s["end"]) for s in others]),
                             "posting batches written for the ERP + ATS changes pushed to channels",
                             steps={s["step"]: round(s["end"] - s["start"], 3) for s in others},
                             erp_export=erp, ats_publication=ats)
    dbt_seconds = dbt_step["end"] - dbt_step["start"]
    overheads = {"dbt_step_seconds": round(dbt_seconds, 3),
                 "dbt_overhead_seconds": round(dbt_seconds - sum(n["seconds"] for n in nodes), 3),
                 "close_process_and_run_seconds": round(measured.seconds - dbt_seconds
                                                        - stages["export"]["seconds"], 3),
                 "close_cpu_seconds": round(measured.cpu_seconds, 3),
                 "close_peak_rss_mb": round(measured.peak_tree_kb() / 1024, 1),
                 "close_max_rss_single_process_mb": round(measured.max_rss_kb / 1024, 1),
                 "dbt_nodes": len(nodes),
                 "dbt_nodes_by_type": dict(Counter(n["unique_id"].split(".")[0] for n in nodes)),
                 "dbt_failed_nodes": [n["unique_id"] for n in nodes
                                                               if n["status"] not in ("success", "pass", "warn")]}
    model_seconds = {n["name"]: n["seconds"] for n in nodes if n["unique_id"].startswith("model.")}
    return stages, overheads, model_seconds


def raw_row_count(duckdb_path: str) -> int:
    import duckdb

    with duckdb.connect(duckdb_path, read_only=True) as connection:
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw\\_%' escape '\\' and table_type = 'BASE TABLE'").fetchall()
        return sum(connection.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables)


def _machine() -> dict:
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    return {"cpus": os.cpu_count(), "memory_mb": int(memory) // 1024, "platform": platform.platform(),
            "python": platform.python_version(), "load_average_at_start": os.getloadavg()}


def run_bench(config: SandboxConfig, home: Path, json_path: Path, progress: Progress | None = None,
              matching_at: tuple[int, ...] = ()) -> dict:
    """The whole pipeline measured; then, for each size in `matching_at` (orders a day), the matching models
    and the baseline on the close's marts repeated to that size (matching_volume.py)."""
    from orchestration.demo import sandbox_days

    progress = progress or Progress(5 + len(matching_at))
    days = sandbox_days(config)
    fresh_home(home)
    env = bench_env(home)
    duckdb_path = env["OMNIRECON_DUCKDB_PATH"]
    machine = _machine()
    started, own_cpu = time.monotonic(), time.process_time()
    whole = TreeSampler(os.getpid()).start()
    sandbox, ready = start_sandbox(config, home, env)
    try:
        progress.advance(f"sandbox generated ({ready['generate']['seconds']:.1f}s), webhooks delivered "
                         f"({ready['webhooks']['seconds']:.1f}s)")
        env.update(ready["env"])
        ingest, ingested = run_child("ingest", days, home, env)
        progress.advance(f"ingest: {len(ingested['runs'])} runs ({ingest.seconds:.1f}s)")
        close, closed = run_child("close", days, home, env)
        progress.advance(f"close: reconciliation_build {days[0]}..{days[-1]} ({close.seconds:.1f}s)")
        verified = verify_with_sandbox(sandbox)
        progress.advance("compared with the sandbox's ground truth")
        dbt_stages, overheads, model_seconds = close_split(close, closed, duckdb_path)
        baseline = compare_with_mart(duckdb_path, model_seconds)
        progress.advance(f"matching baseline ({baseline['baseline_seconds']:.3f}s)")
    finally:
        stop_sandbox(sandbox)
        remove_dbt_artifacts(home)
        samples = whole.stop()
    seconds, load_at_end, own_cpu = time.monotonic() - started, os.getloadavg(), time.process_time() - own_cpu
    at_volume = []  # after the pipeline's figures: its time and memory are not the pipeline's
    for orders_per_day in matching_at:
        at_volume.append(matching_at_volume(Path(duckdb_path), orders_per_day, config.days, home / "matching", env))
        progress.advance(f"matching at {at_volume[-1]['orders_per_day']} orders a day: dbt "
                         f"{at_volume[-1]['dbt_seconds']:.1f}s, baseline {at_volume[-1]['baseline_seconds']:.1f}s")
    generate, webhooks = ready["generate"], ready["webhooks"]
    stages = {
        "generate": stage(generate["seconds"], generate["rows"], generate["peak_rss_kb"],
                          "records the sandbox serves or drops, every source (ground truth 'sources')",
                          cpu_seconds=round(generate["cpu_seconds"], 3), web_orders=generate["web_orders"],
                          files_dropped=generate["files_dropped"]),
        "webhooks": stage(webhooks["seconds"], webhooks["rows"], webhooks["peak_rss_kb"],
                          "distinct webhook events acknowledged (the receiver in a process of its own)",
                          cpu_seconds=round(webhooks["cpu_seconds"], 3), attempts=webhooks["attempts"],
                          duplicates_sent=webhooks["duplicates_sent"]),
        "ingest": ingest_stage(ingest, ingested, raw_row_count(duckdb_path)),
        **dbt_stages,
    }
    in_stages = sum(stages[name]["seconds"] for name in STAGES)
    overheads["process_and_run_seconds"] = round(seconds - in_stages - overheads["dbt_overhead_seconds"], 3)
    report = {
        "size": {"orders_per_day": round(sum(daily_orders(config).values())),
                 "orders_per_day_by_channel": {channel: round(n, 1) for channel, n in daily_orders(config).items()},
                 "days": config.days, "seed": config.seed,
                 "start_date": config.start_date.isoformat(), "last_day": days[-1],
                 "anomaly_rate": config.anomaly_rate},
        "machine": {**machine, "load_average_at_end": load_at_end},
        "home": str(home),
        "stages": stages,
        "overheads": overheads,
        "total": {"seconds": round(seconds, 3),
                  "peak_rss_mb": round(max((kb for _, kb in samples), default=0) / 1024, 1),
                  "sandbox_process_peak_rss_mb": round(verified["peak_rss_kb"] / 1024, 1),
                  # CPU is what a loaded machine does not inflate: the sandbox serving the APIs, ingest, close
                  "cpu_seconds": round(verified["cpu_seconds"] + ingest.cpu_seconds + close.cpu_seconds, 3),
                  "sandbox_process_cpu_seconds": round(verified["cpu_seconds"], 3),
                  "ingest_cpu_seconds": round(ingest.cpu_seconds, 3), "close_cpu_seconds": round(close.cpu_seconds, 3),
                  # the measuring itself (the memory samplers): CPU the run did not get, so it must stay small
                  "bench_process_cpu_seconds": round(own_cpu, 3)},
        "matching_baseline": baseline,
        "matching_at_volume": at_volume,
        "truth_equal": not verified["differences"],
        "truth_differences": verified["differences"],
        "truth_matches": verified["truth_matches"],
        "dbt_model_seconds": dict(sorted(model_seconds.items(), key=lambda item: -item[1])),
    }
    write_json(report, json_path)
    return report


def bench_command(config: SandboxConfig, json_path: Path | None = None, home: Path | None = None,
                  matching_at: tuple[int, ...] = ()) -> int:
    """Run the bench, print the table, write the JSON; non-zero when the result differs from the truth (or the
    matching at volume from its repeated close)."""
    json_path = json_path or default_json_path()
    home = home or BENCH_ROOT / "home"
    try:
        report = run_bench(config, home, json_path, matching_at=matching_at)
    except RuntimeError as error:  # a stage failed: its log is in the bench home
        print(f"omnirecon bench: {error}")
        return 1
    print(render(report))
    print(f"  JSON report: {json_path}")
    return 0 if report["truth_equal"] and all(m["equal"] for m in report["matching_at_volume"]) else 1
