"""The bench's report: one table on stdout, the same figures (and more) in a JSON file."""
from __future__ import annotations

import json
from pathlib import Path

STAGES = ("generate", "webhooks", "ingest", "transform", "matching", "postings", "ats", "export")


def stage(seconds: float, rows: int, peak_rss_kb: int, counts: str, **details) -> dict:
    return {"seconds": round(seconds, 3), "rows": rows,
            "rows_per_second": round(rows / seconds, 1) if seconds else None,
            "peak_rss_mb": round(peak_rss_kb / 1024, 1), "rows_counted": counts, **details}


def render(report: dict) -> str:
    size = report["size"]
    lines = [f"omnirecon bench: {size['orders_per_day']} orders a day across channels x {size['days']} days "
             f"(seed {size['seed']}, {size['start_date']}..{size['last_day']}), {report['machine']['cpus']} CPUs",
             f"  {'stage':<10} {'wall s':>8} {'rows':>9} {'rows/s':>9} {'peak MB':>8}  rows counted"]
    for name in STAGES:
        s = report["stages"][name]
        rate = f"{s['rows_per_second']:.0f}" if s["rows_per_second"] is not None else "-"
        lines.append(f"  {name:<10} {s['seconds']:>8.1f} {s['rows']:>9} {rate:>9} {s['peak_rss_mb']:>8.0f}  "
                     f"{s['rows_counted']}")
    o = report["overheads"]
    lines.append(f"  outside the stages: dbt overhead {o['dbt_overhead_seconds']:.1f}s (parse, start-up, per-node "
                 f"bookkeeping), process start-up and Dagster runs {o['process_and_run_seconds']:.1f}s")
    i = report["stages"]["ingest"]["split_seconds"]
    lines.append("  ingest split: " + ", ".join(f"{k.replace('_', ' ')} {v:.1f}s" for k, v in i.items()))
    t = report["total"]
    lines.append(f"  total      {t['seconds']:>8.1f} s wall, peak {t['peak_rss_mb']:.0f} MB (the bench's whole "
                 f"process tree, sandbox included); CPU {t['cpu_seconds']:.1f}s "
                 f"(sandbox {t['sandbox_process_cpu_seconds']:.1f}, "
                 f"ingest {t['ingest_cpu_seconds']:.1f}, close {t['close_cpu_seconds']:.1f}; measuring "
                 f"{t['bench_process_cpu_seconds']:.1f}); load average "
                 f"{report['machine']['load_average_at_start'][0]:.1f} at start, "
                 f"{report['machine']['load_average_at_end'][0]:.1f} at end")
    m = report["matching_baseline"]
    ratio = f"{m['dbt_to_baseline_ratio']:.1f}x" if m["dbt_to_baseline_ratio"] else "-"
    lines.append(f"  matching baseline (one DuckDB statement): {m['baseline_seconds']:.3f}s for "
                 f"{m['baseline_matches']} matches; dbt matching models {m['dbt_seconds']:.3f}s "
                 f"({ratio}); equal to marts.settlement_matches: {m['equal']}")
    for v in report.get("matching_at_volume", []):
        lines.append(f"  matching at {v['orders_per_day']} orders a day ({v['copies']} copies of the close's marts, "
                     f"{v['rows']['settlement_lines']} settlement lines): dbt {v['dbt_seconds']:.2f}s, baseline "
                     f"{v['baseline_seconds']:.2f}s ({v['dbt_to_baseline_ratio']}x), exception queue "
                     f"{v['exceptions_seconds']:.2f}s, dbt peak "
                     f"{v['dbt_peak_rss_mb']:.0f} MB; {v['matches']} matches, as expected and equal: {v['equal']}")
    lines.append(f"  equal to the sandbox's ground truth: {report['truth_equal']}"
                 + ("" if report["truth_equal"] else "\n    " + "\n    ".join(report["truth_differences"])))
    return "\n".join(lines)


def write_json(report: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return path
