"""`omnirecon bench --history-days 1 30`: what the incremental runs cost on top of 1 day and on top of 30 days
of history. The issue's yardstick: the latter within 1.5x of the former, since a run must cost what is new,
not what is stored.

For each history length H, in a throwaway home of its own, the sandbox holds H + 1 days of N orders a day:
- history: the inbox and the daily pulls of the first H days, then their close (one run, as a backfill);
- measured, on top of it, each in a child process of its own:
  - `pull`: the newest day's API pulls (landing, raw load, the raw-data gate); its vendor files came in with
    the inbox already, as they would have;
  - `close`: that day's close (`reconciliation_build`, one partition: dbt, matching, postings, ATS, export);
  - `cycle`: the 15-minute `ats_cycle` (today's WMS movements so far, the inventory models, the ATS pushed);
- then the warehouse is compared with the sandbox's ground truth, as `omnirecon bench` does.

A figure is the wall time of the child's Dagster runs (not its Python start-up, the same at any H), with the
child's CPU seconds beside it, which a loaded machine does not inflate.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from orchestration.benchmark.report import write_json
from orchestration.benchmark.processes import (bench_env, fresh_home, remove_dbt_artifacts, run_child, start_sandbox,
                                               stop_sandbox, verify_with_sandbox)
from orchestration.benchmark.run import bench_config
from orchestration.operations import Progress

MEASURED = ("pull", "close", "cycle")
WITHIN = 1.5  # the longest history's runs may cost this much of the shortest's


def _run_seconds(result: dict) -> float:
    return sum(run["seconds"] for run in result["runs"])


def measure_on_history(orders_per_day: int, history_days: int, seed: int, home: Path, progress: Progress) -> dict:
    """One history length: build it, then time the newest day's pull, its close and one ATS cycle."""
    from orchestration.demo import sandbox_days

    config = bench_config(orders_per_day, history_days + 1, seed)
    days = sandbox_days(config)
    history, new_day = days[:-1], days[-1]
    fresh_home(home)
    env = bench_env(home)
    started = time.monotonic()
    sandbox, ready = start_sandbox(config, home, env)
    try:
        env.update(ready["env"])
        run_child("ingest", history, home, env, name="history-ingest")
        run_child("close", [history[0], history[-1]], home, env, name="history-close")
        progress.advance(f"{history_days} days of history loaded and closed ({time.monotonic() - started:.0f}s)")
        measured = {}
        for action, action_days in (("pull", [new_day]), ("close", [new_day]), ("cycle", [])):
            child, result = run_child(action, action_days, home, env)
            measured[action] = {"seconds": round(_run_seconds(result), 3), "cpu_seconds": round(child.cpu_seconds, 3),
                                "peak_rss_mb": round(child.peak_tree_kb() / 1024, 1),
                                "runs": [run["label"] for run in result["runs"]]}
        progress.advance(f"on {history_days} days: " + ", ".join(f"{a} {m['seconds']:.1f}s"
                                                                  for a, m in measured.items()))
        verified = verify_with_sandbox(sandbox)
    finally:
        stop_sandbox(sandbox)
        remove_dbt_artifacts(home)
    return {"history_days": history_days, "history": [history[0], history[-1]], "new_day": new_day,
            "measured": measured, "truth_equal": not verified["differences"],
            "truth_differences": verified["differences"], "seconds_in_all": round(time.monotonic() - started, 1)}


def incremental_report(orders_per_day: int, runs: list[dict]) -> dict:
    """Each history's figures, and each measured run's cost on the longest history against the shortest."""
    shortest, longest = min(runs, key=lambda r: r["history_days"]), max(runs, key=lambda r: r["history_days"])
    ratios = {}
    for action in MEASURED:
        base, top = shortest["measured"][action], longest["measured"][action]
        ratios[action] = {"seconds": round(top["seconds"] / base["seconds"], 2) if base["seconds"] else None,
                          "cpu_seconds": round(top["cpu_seconds"] / base["cpu_seconds"], 2)
                          if base["cpu_seconds"] else None}
    return {"orders_per_day": orders_per_day, "histories": runs,
            "ratio": {"of": f"{longest['history_days']} days against {shortest['history_days']}",
                      "within": WITHIN, **ratios},
            "truth_equal": all(r["truth_equal"] for r in runs),
            "machine": {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()}}


def render_incremental(report: dict) -> str:
    lines = [f"omnirecon bench, incremental: {report['orders_per_day']} orders a day; the newest day's runs "
             f"on top of each history ({report['machine']['cpus']} CPUs)",
             f"  {'history':<9}" + "".join(f"{a + ' s':>10}{'cpu s':>8}" for a in MEASURED) + "  truth"]
    for run in report["histories"]:
        m = run["measured"]
        lines.append(f"  {str(run['history_days']) + ' days':<9}"
                     + "".join(f"{m[a]['seconds']:>10.1f}{m[a]['cpu_seconds']:>8.1f}" for a in MEASURED)
                     + f"  {'equal' if run['truth_equal'] else 'DIFFERS'}")
    r = report["ratio"]
    lines.append(f"  ratio ({r['of']}; the target is within {r['within']}x): "
                 + ", ".join(f"{a} {r[a]['seconds']}x wall / {r[a]['cpu_seconds']}x cpu" for a in MEASURED))
    return "\n".join(lines)


def incremental_command(orders_per_day: int, history_days: list[int], seed: int, json_path: Path,
                        home: Path) -> int:
    """Measure each history length, print the comparison, write the JSON; non-zero when a result differs
    from the truth."""
    progress = Progress(len(history_days) * 2)
    try:
        runs = [measure_on_history(orders_per_day, h, seed, home / f"history-{h}", progress)
                for h in sorted(set(history_days))]
    except RuntimeError as error:
        print(f"omnirecon bench: {error}")
        return 1
    report = incremental_report(orders_per_day, runs)
    write_json(report, json_path)
    print(render_incremental(report))
    print(f"  JSON report: {json_path}")
    return 0 if report["truth_equal"] else 1
