"""The bench's sandbox retailer, in a process of its own: `python -m orchestration.benchmark.sandbox_process`.

It generates the world (stage `generate`), drops the vendors' files, delivers the web shop's and Stripe's
webhooks to a receiver landing them in the bench home (stage `webhooks`: the receiver runs as deployed,
`omnirecon webhooks serve` in a process of its own, so sender and receiver do not share one core), then
serves the vendor APIs while the pipeline runs. It prints one JSON line when ready (the variables that
point omnirecon at it, and both stages' figures), then waits for `verify` on stdin: it compares the
warehouse with the ground truth it holds in memory and prints the differences as a last JSON line.
Peak memory is this process's own (getrusage of itself): the peak so far when each stage ends. CPU counts
the receiver's too, once it has ended.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

from connectors.sandbox.simulator import SandboxConfig


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_seconds() -> float:
    return sum(usage.ru_utime + usage.ru_stime
               for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def deliver_to_receiver_process(sandbox, timeout_seconds: float = 60):
    """The sandbox's webhooks, delivered to `omnirecon webhooks serve` started for them and stopped after."""
    port = _free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "webhooks", "serve", "--port", str(port)],
                                env={**os.environ, **sandbox.env}, stdout=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                urllib.request.urlopen(base_url + "/healthz", timeout=1).close()
                break
            except OSError:
                if receiver.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the webhook receiver did not start (exit code {receiver.poll()})") from None
                time.sleep(0.1)
        return sandbox.deliver_webhooks(base_url)
    finally:
        receiver.terminate()
        receiver.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True, help="SandboxConfig fields as JSON")
    parser.add_argument("--folder", required=True, type=Path)
    args = parser.parse_args(argv)
    fields = json.loads(args.config)
    config = SandboxConfig(**{**fields, "start_date": date.fromisoformat(fields["start_date"])})

    from connectors.sandbox.retailer import start_sandbox
    from orchestration import local_paths

    started, cpu = time.monotonic(), _cpu_seconds()
    sandbox = start_sandbox(config, args.folder)
    records = sum(n for tables in sandbox.world.ground_truth["sources"].values() for n in tables.values())
    generate = {"seconds": time.monotonic() - started, "rows": records, "peak_rss_kb": _peak_kb(),
                "cpu_seconds": _cpu_seconds() - cpu, "files_dropped": len(sandbox.dropped_files),
                "web_orders": len(sandbox.world.store.orders)}
    started, cpu = time.monotonic(), _cpu_seconds()
    sent = deliver_to_receiver_process(sandbox)
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
