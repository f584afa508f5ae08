"""The bench's sandbox retailer, in a process of its own: `python -m orchestration.benchmark.sandbox_process`.

It generates the world (stage `generate`), drops the vendors' files, delivers the web shop's and Stripe's
webhooks to a receiver landing them in the bench home (stage `webhooks`, as `omnirecon demo` does), then
serves the vendor APIs while the pipeline runs. It prints one JSON line when ready (the variables that
point omnirecon at it, and both stages' figures), then waits for `verify` on stdin: it compares the
warehouse with the ground truth it holds in memory and prints the differences as a last JSON line.
Peak memory is this process's own (getrusage of itself): the peak so far when each stage ends.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import date
from pathlib import Path

from connectors.sandbox.simulator import SandboxConfig


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True, help="SandboxConfig fields as JSON")
    parser.add_argument("--folder", required=True, type=Path)
    args = parser.parse_args(argv)
    fields = json.loads(args.config)
    config = SandboxConfig(**{**fields, "start_date": date.fromisoformat(fields["start_date"])})

    from connectors.sandbox.retailer import start_sandbox
    from orchestration import local_paths
    from orchestration.demo import deliver_sandbox_webhooks

    started, cpu = time.monotonic(), _cpu_seconds()
    sandbox = start_sandbox(config, args.folder)
    records = sum(n for tables in sandbox.world.ground_truth["sources"].values() for n in tables.values())
    generate = {"seconds": time.monotonic() - started, "rows": records, "peak_rss_kb": _peak_kb(),
                "cpu_seconds": _cpu_seconds() - cpu, "files_dropped": len(sandbox.dropped_files),
                "web_orders": len(sandbox.world.store.orders)}
    started, cpu = time.monotonic(), _cpu_seconds()
    sent = deliver_sandbox_webhooks(sandbox)
    webhooks = {"seconds": time.monotonic() - started, "rows": sent.total(), "peak_rss_kb": _peak_kb(),
                "cpu_seconds": _cpu_seconds() - cpu, "attempts": sent.attempts, "duplicates_sent": sent.duplicates_sent,
                "landing": str(local_paths.landing_root())}
    print(json.dumps({"env": sandbox.env, "generate": generate, "webhooks": webhooks}), flush=True)

    command = sys.stdin.readline().strip()
    try:
        if command != "verify":
            return 0
        from connectors.warehouse import connect
        from orchestration.reconciliation_summary import differences_from_truth

        with connect(str(local_paths.duckdb_path())) as warehouse:
            differences = differences_from_truth(warehouse, sandbox.world.ground_truth)
        truth_matches = len(sandbox.world.ground_truth["matches"])
        print(json.dumps({"differences": differences, "truth_matches": truth_matches,
                          "peak_rss_kb": _peak_kb(), "cpu_seconds": _cpu_seconds()}), flush=True)
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
