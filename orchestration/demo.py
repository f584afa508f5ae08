"""`omnirecon demo` and `omnirecon dev`: the whole pipeline on the sandbox retailer, on this machine."""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from connectors.sandbox.retailer import start_sandbox
from connectors.sandbox.simulator import SandboxConfig
from orchestration import local_paths

DAGSTER_YAML = """\
# Local Dagster instance for omnirecon (SQLite storage under this folder).
concurrency:
  pools:
    # DuckDB takes one writer at a time: raw loads and dbt builds share the warehouse_writer pool.
    default_limit: 1
telemetry:
  enabled: false
"""


def prepare_local_instance() -> Path:
    """Point this process (and its children) at the local omnirecon home and Dagster instance."""
    home = local_paths.home()
    os.environ.setdefault("OMNIRECON_HOME", str(home))
    os.environ.setdefault("OMNIRECON_DUCKDB_PATH", str(local_paths.duckdb_path()))
    dagster_home = local_paths.dagster_home()
    dagster_home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    config = dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home


def reset_sandbox_state() -> None:
    """The demo replays the sandbox from scratch: drop its landed files, warehouse and exports."""
    for path in (local_paths.landing_root(), local_paths.export_root(), local_paths.state_root()):
        shutil.rmtree(path, ignore_errors=True)
    for suffix in ("", ".wal"):
        Path(str(local_paths.duckdb_path()) + suffix).unlink(missing_ok=True)


def sandbox_days(config: SandboxConfig) -> list[str]:
    return [(config.start_date + timedelta(days=i)).isoformat() for i in range(config.days)]


# The demo prints its own progress; Dagster's step-by-step log stays in the run history (make dev).
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _jobs(defs, suffix: str) -> list[str]:
    return sorted(job.name for job in defs.jobs if job.name.endswith(suffix))


def _run(job, log, label: str, **options):
    started = time.monotonic()
    # dbt writes its own log lines to stdout: keep them for a failure, show the progress line otherwise.
    with contextlib.redirect_stdout(io.StringIO()) as output:
        result = job.execute_in_process(run_config=QUIET_RUN, raise_on_error=False, **options)
    log(f"  {label}: {'ok' if result.success else 'FAILED'} ({time.monotonic() - started:.1f}s)")
    if not result.success:
        print(output.getvalue()[-4000:])
    return result


def run_pipeline(config: SandboxConfig, instance, log=print, *, build: bool = True, days: list[str] | None = None):
    """Materialize the asset graph for the sandbox days (or the given ones): the inbox loads and webhook
    events, one pull run per API source and day, then (unless `build` is False) the build run. Sensors and
    schedules do the same in production."""
    from orchestration.definitions import defs

    for name in _jobs(defs, "_load"):
        if not _run(defs.resolve_job_def(name), log, name, instance=instance).success:
            raise SystemExit(f"{name} failed: see the run in the Dagster UI (make dev)")
    for day in sandbox_days(config) if days is None else days:
        for name in _jobs(defs, "_daily_pull"):
            if not _run(defs.resolve_job_def(name), log, f"{name} {day}", instance=instance, partition_key=day).success:
                raise SystemExit(f"{name} for {day} failed: see the run in the Dagster UI (make dev)")
    if build:
        return _run(defs.resolve_job_def("reconciliation_build"), log,
                    "dbt build, posting gate, ERP export and ATS publication", instance=instance)
    return None


def deliver_sandbox_webhooks(sandbox) -> object:
    """Receive the sandbox's webhook deliveries the way `omnirecon webhooks serve` does, into the landing zone."""
    from connectors.webhooks.receiver import WebhookReceiver, WebhookSecrets

    receiver = WebhookReceiver(local_paths.landing_root(), WebhookSecrets.from_env(sandbox.env)).start()
    try:
        return sandbox.deliver_webhooks(receiver.base_url)
    finally:
        receiver.stop()


def redeliver_files(inbox: Path) -> int:
    """Drop every file the inbox took once more under a new name, as a vendor re-sending its reports does."""
    resent = 0
    for taken in sorted(inbox.glob("*/processed/*")):
        if not taken.name.startswith("duplicate-"):
            shutil.copy(taken, taken.parent.parent / f"resent-{taken.name}")
            resent += 1
    return resent


def replay_stages(config: SandboxConfig, sandbox, instance, log=print, backfill_days: int | None = None):
    """The ways a run is repeated in real life, one after the other: yields each stage's name once it ran.
    A correct pipeline ends every stage with the same reconciliation it had before. The backfill pulls the
    last `backfill_days` days again (every day when None), as a peak-window backfill does."""
    from orchestration.definitions import defs

    _run(defs.resolve_job_def("reconciliation_build"), log, "rebuild", instance=instance)
    yield "rebuild"
    days = sandbox_days(config)
    window = days if backfill_days is None else days[-backfill_days:]
    run_pipeline(config, instance, log, days=window)
    yield "backfill of every day" if window == days else f"backfill of the last {len(window)} days"
    log(f"  re-sent {redeliver_files(sandbox.inbox)} files and {deliver_sandbox_webhooks(sandbox).total()} webhooks")
    run_pipeline(config, instance, log, days=[])
    yield "re-delivery of every file and webhook"


def run_demo(config: SandboxConfig, replay: bool = False, backfill_days: int | None = None) -> int:
    from dagster import DagsterInstance

    from connectors.warehouse import connect
    from orchestration.canonical_truth import (canonical_figures, differences_in_canonical, render_canonical,
                                               return_links, truth_return_links)
    from orchestration.inventory_truth import differences_in_inventory, render_inventory
    from orchestration.reconciliation_summary import (accuracy, differences_from_truth, render, render_accuracy,
                                                      summarize)
    from orchestration.source_counts import (differences_in_record_counts, raw_modules, raw_record_counts,
                                             render_record_counts, truth_by_schema)

    started = time.monotonic()
    home = prepare_local_instance()
    reset_sandbox_state()
    print(f"omnirecon demo: sandbox retailer seed={config.seed}, {config.days} days from {config.start_date}, "
          f"{config.orders_per_day} orders a day, anomaly rate {config.anomaly_rate}")
    with start_sandbox(config, home / "sandbox") as sandbox:
        os.environ.update(sandbox.env)
        print(f"  sandbox APIs: {', '.join(f'{name} {api.base_url}' for name, api in sandbox.apis.items())}")
        print(f"  sandbox inbox {sandbox.inbox} ({len(sandbox.dropped_files)} files); ground truth in {sandbox.manifest_path}")
        sent = deliver_sandbox_webhooks(sandbox)
        print(f"  webhooks: {sent.total()} events delivered ({sent.duplicates_sent} sent twice, as vendors do)")
        run_pipeline(config, DagsterInstance.get())
        truth = sandbox.world.ground_truth
        with connect(str(local_paths.duckdb_path())) as warehouse:
            summary = summarize(warehouse)
            diffs = differences_from_truth(warehouse, truth)
            counts = raw_record_counts(warehouse, raw_modules())
            canonical = canonical_figures(warehouse)
            links = return_links(warehouse)
            scores = {"first run": accuracy(warehouse, truth)}
            diffs += differences_in_inventory(warehouse, truth["inventory"])
            inventory = render_inventory(warehouse, truth["inventory"])
        for stage in replay_stages(config, sandbox, DagsterInstance.get(), log=lambda _: None,
                                   backfill_days=backfill_days) if replay else ():
            with connect(str(local_paths.duckdb_path())) as warehouse:
                scores[stage] = accuracy(warehouse, truth)
                diffs += [f"after the {stage}: {d}" for d in differences_from_truth(warehouse, truth)]
    expected = truth_by_schema(truth["sources"])
    diffs += differences_in_record_counts(counts, expected)
    world = sandbox.world.world
    diffs += differences_in_canonical(canonical, world.canonical)
    if links != truth_return_links(world):
        diffs.append(f"returns: {len(links)} return links in the marts, {len(world.return_links)} in the sandbox")
    print()
    print("Records per source (raw tables) and in the sandbox:")
    print(render_record_counts(counts, expected))
    print()
    print("Canonical marts (all days):")
    print(render_canonical(canonical))
    print(f"  returns linked to their order line: {len(links)}, of which bought online and returned in a store: "
          f"{sum(1 for link in links if link[0] == 'pos' and link[2] == 'shopify_web')}")
    print()
    print(render(summary))
    print()
    print("Available to sell per channel against the sandbox's truth (every SKU and day):")
    print(inventory)
    print()
    for stage, figures in scores.items():
        print(f"Reconciliation against the sandbox's truth, {stage}:")
        print(render_accuracy(figures))
    print()
    print(f"Sandbox ground truth: {len(truth['matches'])} matches, exceptions {json.dumps(truth['exceptions_by_reason'])}")
    print("Result equals the ground truth." if not diffs else "DIFFERS from the ground truth:\n  " + "\n  ".join(diffs))
    print(f"ERP files: {local_paths.export_root() / 'erp'}")
    print(f"Done in {time.monotonic() - started:.0f}s. Open the Dagster UI with `make dev` (http://127.0.0.1:3000).")
    return 0 if not diffs else 1


def run_dev(config: SandboxConfig, port: int = 3000) -> int:
    """Serve the sandbox's APIs and run the Dagster webserver and daemon on this code location."""
    from orchestration.defs.dbt.project import ensure_manifest

    home = prepare_local_instance()
    ensure_manifest()  # before the webserver's code server loads the models from it
    with start_sandbox(config, home / "sandbox") as sandbox:
        env = {**os.environ, **sandbox.env}
        print(f"sandbox APIs: {', '.join(f'{name} {api.base_url}' for name, api in sandbox.apis.items())}; "
              f"inbox {sandbox.inbox}; Dagster UI on http://127.0.0.1:{port}")
        dagster = Path(sys.executable).with_name("dagster")
        return subprocess.call([str(dagster), "dev", "-w", str(local_paths.REPO_ROOT / "workspace.yaml"),
                                "-p", str(port)], env=env, cwd=local_paths.REPO_ROOT)
