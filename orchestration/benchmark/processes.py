"""The bench's processes: its throwaway home, the sandbox process, and the pipeline's child processes.

Shared by the whole-pipeline bench (run.py) and the incremental one (incremental.py).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from connectors.sandbox.simulator import SandboxConfig
from orchestration import local_paths
from orchestration.benchmark.memory import Measured, run_measured

# Variables of the user's own setup that must not leak into the bench's throwaway home.
NOT_INHERITED = ("OMNIRECON_", "DAGSTER_HOME", "SHOPIFY_", "STRIPE_", "AMAZON_", "SQUARE_", "WMS_", "ERP_",
                 "MARKETPLACE_", "ADYEN_")
# ... except the machine's settings, which the bench measures under as the pipeline would run.
KEPT = ("OMNIRECON_DUCKDB_MEMORY_LIMIT",)


def bench_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in KEPT or not key.startswith(NOT_INHERITED)}
    env.update(OMNIRECON_HOME=str(home), OMNIRECON_DUCKDB_PATH=str(home / "warehouse.duckdb"),
               DAGSTER_HOME=str(home / "dagster_home"), OMNIRECON_TARGET="duckdb",
               # the sandbox's days are in the past: the raw data's freshness expectation would hold them all
               OMNIRECON_DQ_MAX_AGE_DAYS="100000")
    return env


def fresh_home(home: Path) -> None:
    from orchestration.demo import DAGSTER_YAML

    shutil.rmtree(home, ignore_errors=True)
    (home / "dagster_home").mkdir(parents=True)
    (home / "dagster_home" / "dagster.yaml").write_text(DAGSTER_YAML)


def remove_dbt_artifacts(home: Path) -> int:
    """dagster-dbt leaves each dbt invocation's artifacts (tens of MB) in dbt_project/target/<asset>-<run id>-...:
    remove those of the runs in the bench home's instance (a failed run's too), no one else's."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        run_ids = [run.run_id for run in instance.get_runs()]
    removed = 0
    for run_id in run_ids:
        for folder in (local_paths.DBT_PROJECT_DIR / "target").glob(f"*-{run_id[:7]}-*"):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def start_sandbox(config: SandboxConfig, home: Path, env: dict[str, str]) -> tuple[subprocess.Popen, dict]:
    fields = {**asdict(config), "start_date": config.start_date.isoformat()}
    command = [sys.executable, "-m", "orchestration.benchmark.sandbox_process", "--config", json.dumps(fields),
               "--folder", str(home / "sandbox")]
    with open(home / "sandbox.log", "w") as log:
        process = subprocess.Popen(command, env=env, cwd=local_paths.REPO_ROOT, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=log, text=True)
    line = process.stdout.readline()
    if not line:
        process.wait()
        raise RuntimeError(f"the sandbox did not start (exit {process.returncode}): see {home / 'sandbox.log'}")
    return process, json.loads(line)


def verify_with_sandbox(sandbox: subprocess.Popen) -> dict:
    sandbox.stdin.write("verify\n")
    sandbox.stdin.flush()
    answer = json.loads(sandbox.stdout.readline())
    sandbox.wait()
    return answer


def stop_sandbox(sandbox: subprocess.Popen) -> None:
    if sandbox.poll() is None:
        sandbox.stdin.close()  # not `verify`: it stops serving and ends
        try:
            sandbox.wait(timeout=60)
        except subprocess.TimeoutExpired:
            sandbox.kill()
            sandbox.wait()


def run_child(action: str, days: list[str], home: Path, env: dict[str, str], name: str | None = None
           ) -> tuple[Measured, dict]:
    """One pipeline_process action in a child process; its result and log are <name>.json and <name>.log."""
    name = name or action
    out, log = home / f"{name}.json", home / f"{name}.log"
    command = [sys.executable, "-m", "orchestration.benchmark.pipeline_process", action, *days, "--out", str(out)]
    measured = run_measured(command, env, str(local_paths.REPO_ROOT), log)
    if measured.returncode != 0:
        raise RuntimeError(f"the {name} failed (exit {measured.returncode}): see {log}")
    return measured, json.loads(out.read_text())
