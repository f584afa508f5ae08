"""A fortnight closed day by day, and the same fortnight backfilled, end with the same books.

The same sandbox retailer (two homes, each with its own sandbox serving the same world) is closed two ways
through the `omnirecon` CLI: fourteen `omnirecon run --date D`, with each vendor file dropped in the inbox
on the day the vendor sends it, and one `omnirecon backfill --from D --to D` after every file arrived (one
close run for the fortnight). The finance marts must be equal to the cent; the ERP must take each batch id
once, and book the same amounts either way, to the cent, per posting date, account and currency (closing day
by day may reverse and rebook a day's batch that later data changed; the backfill exports each batch once);
then `omnirecon replay` rebuilds the range from the landing zone with every sandbox API stopped and no
credential in the environment, and nothing moves. Fourteen closes make this a long test (about 20 minutes
on two CPUs, docs/operations.md); the backfill runs in a process of its own meanwhile.
"""
from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from connectors.sandbox.retailer import start_sandbox
from connectors.sandbox.simulator import SandboxConfig
from connectors.warehouse import connect
from orchestration import cli
from orchestration.benchmark.processes import remove_dbt_artifacts

# A small retailer over a fixed past fortnight, without malformed file rows: quarantine is tested elsewhere
# (tests/dbt/test_amazon_incomplete_settlement.py, tests/integration/test_raw_load.py), and this test is long
# enough to compare on clean books.
FORTNIGHT = SandboxConfig(seed=11, start_date=date(2026, 11, 2), days=14, orders_per_day=4, anomaly_rate=0.15,
                          malformed_rate=0.0)
REPO_ROOT = Path(__file__).resolve().parents[2]
DAYS = [(FORTNIGHT.start_date + timedelta(days=i)).isoformat() for i in range(FORTNIGHT.days)]
MARTS = ("posting_batches", "journal_lines", "journal_line_sources", "settlement_matches", "reconciliation_exceptions")
CLOSED = AssetKey(["finance", "daily_close"])  # one partition per business day closed

DATE_IN_NAME = re.compile(r"_(20\d\d)(\d\d)(\d\d)\.")
ISO_DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def _use_home(monkeypatch, home: Path, sandbox_env: dict[str, str] | None) -> None:
    """Point omnirecon (and Dagster) at one home, and at its sandbox's APIs and inbox."""
    monkeypatch.setenv("OMNIRECON_HOME", str(home))
    monkeypatch.setenv("OMNIRECON_DUCKDB_PATH", str(home / "warehouse.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    # The fortnight is fixed in the past: the raw freshness expectation must not age it out.
    monkeypatch.setenv("OMNIRECON_DQ_MAX_AGE_DAYS", "100000")
    for key, value in (sandbox_env or {}).items():
        monkeypatch.setenv(key, value)


def _sent_on(path: Path) -> str:
    """The business day a vendor sends a file: the day its name carries (a bank statement, a Z report, a
    marketplace settlement, a WMS snapshot), else the last day its rows speak of (an Adyen batch after its
    booking, an Amazon settlement after its deposit), within the fortnight."""
    named = DATE_IN_NAME.search(path.name)
    day = ("-".join(named.groups()) if named else
           max(ISO_DATE.findall(path.read_text(encoding="utf-8", errors="replace")), default=DAYS[0]))
    return min(max(day, DAYS[0]), DAYS[-1])


def _hold_back(sandbox, held: Path) -> dict[str, list[tuple[Path, Path]]]:
    """Take every dropped file out of the inbox; returns, per day, where each goes back (the day it is sent)."""
    due: dict[str, list[tuple[Path, Path]]] = {}
    for dropped in sandbox.dropped_files:
        aside = held / dropped.relative_to(sandbox.inbox)
        aside.parent.mkdir(parents=True, exist_ok=True)
        due.setdefault(_sent_on(dropped), []).append((aside, dropped))
        shutil.move(dropped, aside)
    return due


def _marts(home: Path) -> dict[str, list[tuple]]:
    with connect(str(home / "warehouse.duckdb")) as warehouse:
        return {mart: warehouse.fetchall(f"select * from marts.{mart} order by all") for mart in MARTS}


def _ledger(home: Path) -> list[tuple]:
    """outbound.erp_exported_batches: (batch id, original batch id, kind, content) of every export."""
    with connect(str(home / "warehouse.duckdb")) as warehouse:
        return warehouse.fetchall("select batch_id, original_batch_id, kind, content "
                                  "from outbound.erp_exported_batches order by batch_id")


def _erp_posts(erp) -> Counter:
    """How often each batch was sent to the ERP's journal endpoint (its Idempotency-Key is the batch id)."""
    return Counter(r.idempotency_key for r in erp.request_log
                   if r.method == "POST" and r.path.endswith("/journal-batches"))


def _batches_by_status(home: Path) -> dict[str, set[str]]:
    with connect(str(home / "warehouse.duckdb")) as warehouse:
        rows = warehouse.fetchall("select status, batch_id from marts.posting_batches")
    by_status: dict[str, set[str]] = {}
    for status, batch_id in rows:
        by_status.setdefault(status, set()).add(batch_id)
    return by_status


def _assert_posted_once(home: Path, erp) -> None:
    """The ERP took every exported batch once, under its own id; every ready batch was exported."""
    ledger = _ledger(home)
    posts = _erp_posts(erp)
    assert posts and max(posts.values()) == 1, [batch for batch, n in posts.items() if n > 1]
    assert set(posts) == set(erp.posted) == {batch_id for batch_id, *_ in ledger}
    assert _batches_by_status(home)["ready"] <= {original for _, original, _, _ in ledger}


def _booked(home: Path) -> dict[str, dict[tuple, Decimal]]:
    """What the ERP books per batch, to the cent: the batch, its reversals and its corrections summed as debit
    minus credit per posting date, account and currency (a chain that nets to nothing books nothing)."""
    booked: dict[str, dict[tuple, Decimal]] = {}
    for _, original, _, content in _ledger(home):
        batch = json.loads(content)
        for line in batch["lines"]:
            key = (batch["posting_date"], line["account_code"], line["currency"])
            net = booked.setdefault(original, {})
            net[key] = net.get(key, Decimal(0)) + Decimal(line["debit_amount"]) - Decimal(line["credit_amount"])
    return {original: {key: amount for key, amount in net.items() if amount}
            for original, net in booked.items() if any(net.values())}


def _close_runs(home: Path) -> tuple[list, set[str]]:
    with DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        runs = [run for run in instance.get_runs() if run.job_name == "reconciliation_build"]
        return runs, set(instance.get_materialized_partitions(CLOSED))


@pytest.fixture
def homes(tmp_path):
    daily, backfill = tmp_path / "daily", tmp_path / "backfill"
    yield daily, backfill
    for home in (daily, backfill):  # dagster-dbt's artifacts of this test's runs (40 MB a build), no one else's
        if (home / "dagster_home" / "dagster.yaml").exists():
            remove_dbt_artifacts(home)


def _backfill_in_a_process(home: Path, sandbox_env: dict[str, str], log: Path) -> subprocess.Popen:
    """`omnirecon backfill` of the fortnight in a process of its own, on its own home and sandbox: it runs while
    the daily closes run here (the two share nothing but the dbt project), which halves the test's time."""
    env = {**os.environ, **sandbox_env, "OMNIRECON_HOME": str(home),
           "OMNIRECON_DUCKDB_PATH": str(home / "warehouse.duckdb"), "DAGSTER_HOME": str(home / "dagster_home"),
           "OMNIRECON_DQ_MAX_AGE_DAYS": "100000"}
    with open(log, "w") as output:
        return subprocess.Popen([sys.executable, "-m", "orchestration.cli", "backfill", "--from", DAYS[0],
                                 "--to", DAYS[-1]], cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def test_a_fortnight_backfilled_equals_fourteen_daily_closes_and_replays_without_any_api(homes, tmp_path, monkeypatch,
                                                                                      capsys):
    daily_home, backfill_home = homes
    with start_sandbox(FORTNIGHT, backfill_home / "sandbox", retry_after_seconds=0.05) as backfill_sandbox, \
            start_sandbox(FORTNIGHT, daily_home / "sandbox", retry_after_seconds=0.05) as daily_sandbox:
        # The fortnight after every file arrived: the pulls of each day, then ONE close over the range.
        backfill = _backfill_in_a_process(backfill_home, backfill_sandbox.env, tmp_path / "backfill.log")
        try:
            # Fourteen nights: each day's files arrive that day, then the day is pulled and closed.
            _use_home(monkeypatch, daily_home, daily_sandbox.env)
            due = _hold_back(daily_sandbox, tmp_path / "held")
            for day in DAYS:
                for aside, dropped in due.pop(day, []):
                    shutil.move(aside, dropped)
                assert cli.main(["run", "--date", day]) == 0, day
            assert not due
            _assert_posted_once(daily_home, daily_sandbox.apis["erp"])

            assert backfill.wait() == 0, (tmp_path / "backfill.log").read_text()[-5000:]
            assert "closed in one run" in (tmp_path / "backfill.log").read_text()
            _assert_posted_once(backfill_home, backfill_sandbox.apis["erp"])
        finally:
            if backfill.poll() is None:  # a failure above: stop it before its sandbox goes away
                backfill.kill()
                backfill.wait()
    api_calls = {name: len(api.request_log) for name, api in backfill_sandbox.apis.items()}

    daily, backfilled = _marts(daily_home), _marts(backfill_home)
    # the sandbox must have something to match, queue, hold and post, or equality proves little
    assert len(daily["settlement_matches"]) > 100 and daily["reconciliation_exceptions"]
    assert set(_batches_by_status(daily_home)) == {"ready", "blocked"}
    for mart in MARTS:
        assert backfilled[mart] == daily[mart], mart
    # A day's sales journal exported at its close grows as later pulls bring that day's sales in: the daily
    # closes reverse and rebook it (<id>-R<n>, <id>-C<n>), the backfill exports its final content once.
    # Either way the ERP books the same amounts, to the cent, on the same dates and accounts.
    backfill_ledger = _ledger(backfill_home)
    assert {kind for _, _, kind, _ in backfill_ledger} == {"original"}
    assert _booked(daily_home) == _booked(backfill_home)
    assert {original for _, original, _, _ in _ledger(daily_home)} == {batch for batch, *_ in backfill_ledger}

    # fourteen closes, one a day, against one close over the fortnight; both closed every day of it
    runs, closed = _close_runs(daily_home)
    assert sorted(run.tags["dagster/partition"] for run in runs) == DAYS and closed == set(DAYS)
    runs, closed = _close_runs(backfill_home)
    assert len(runs) == 1 and closed == set(DAYS)
    assert (runs[0].tags["dagster/asset_partition_range_start"], runs[0].tags["dagster/asset_partition_range_end"]) \
        == (DAYS[0], DAYS[-1])

    # Every API stopped, every credential gone: the replay reloads the raw tables from the landing zone alone.
    _use_home(monkeypatch, backfill_home, None)
    for key in backfill_sandbox.env:
        monkeypatch.delenv(key)
    capsys.readouterr()
    assert cli.main(["replay", "--from", DAYS[0], "--to", DAYS[-1]]) == 0
    reloaded = re.search(r"dropped (\d+) raw rows, reloaded (\d+) landed files \((\d+) rows\)", capsys.readouterr().out)
    assert reloaded and int(reloaded[2]) > 0 and int(reloaded[1]) == int(reloaded[3]) > 0
    assert _marts(backfill_home) == backfilled
    assert {name: len(api.request_log) for name, api in backfill_sandbox.apis.items()} == api_calls
    assert _ledger(backfill_home) == backfill_ledger

    # what `omnirecon status` shows of it
    capsys.readouterr()
    assert cli.main(["status", "--runs", "2"]) == 0
    status = capsys.readouterr().out
    assert f"Business days closed (finance/daily_close materialized): 14 ({DAYS[0]}..{DAYS[-1]})" in status
    assert re.search(rf"reconciliation_build +{DAYS[0]}..{DAYS[-1]} \(replay\) +success", status)
    assert re.search(rf"reconciliation_build +{DAYS[0]}..{DAYS[-1]} +success", status)
    ready, held = len(_batches_by_status(backfill_home)["ready"]), len(_batches_by_status(backfill_home)["blocked"])
    assert re.search(rf"\n  ready +{ready} ", status) and re.search(rf"\n  blocked +{held} ", status)
    assert "nothing posted yet" not in status and "posted" in status.split("Last ERP postings")[1]


QUEUED_ONLY = """\
# Runs the backfill daemon asks for are queued, and stay queued: no run queue daemon launches them here.
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
telemetry:
  enabled: false
"""


def test_with_a_daemon_the_pulls_run_per_day_and_the_close_of_the_range_is_one_run(tmp_path, monkeypatch):
    """What `omnirecon backfill` submits when a daemon runs, and what Dagster's own backfill daemon makes of it
    (one iteration of it, on the code location loaded from workspace.yaml as `dagster dev` loads it)."""
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster._daemon.backfill import execute_backfill_iteration

    from orchestration.daemon_backfill import BackfillFailed, submit_job_backfill, wait_for_backfills
    from orchestration.operations import Progress

    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text(QUEUED_ONLY)
    _use_home(monkeypatch, tmp_path / "omnirecon", None)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    # the code location plans each run with its resources: they need values, never used (nothing is launched)
    for key in ("SHOPIFY_SHOP_URL", "ERP_BASE_URL", "STRIPE_BASE_URL"):
        monkeypatch.setenv(key, "http://127.0.0.1:9")
    for key in ("SHOPIFY_ACCESS_TOKEN", "STRIPE_API_KEY", "AMAZON_LWA_CLIENT_ID", "AMAZON_LWA_CLIENT_SECRET",
                "AMAZON_LWA_REFRESH_TOKEN", "SQUARE_ACCESS_TOKEN", "WMS_API_KEY", "MARKETPLACE_API_TOKEN",
                "ERP_API_TOKEN"):
        monkeypatch.setenv(key, "unused")
    days = DAYS[:3]

    with DagsterInstance.get() as instance:
        close = submit_job_backfill(instance, "reconciliation_build", days)
        pulls = submit_job_backfill(instance, "shopify_daily_pull", days)
        with WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(REPO_ROOT / "workspace.yaml")])) as ctx:
            list(execute_backfill_iteration(ctx, logging.getLogger("backfill daemon")))

        runs = instance.get_runs()
        closes = [run for run in runs if run.tags.get("dagster/backfill") == close]
        assert [run.job_name for run in closes] == ["reconciliation_build"]
        assert (closes[0].tags["dagster/asset_partition_range_start"],
                closes[0].tags["dagster/asset_partition_range_end"]) == (days[0], days[-1])
        pull_runs = [run for run in runs if run.tags.get("dagster/backfill") == pulls]
        assert sorted(run.tags["dagster/partition"] for run in pull_runs) == days
        assert {run.job_name for run in pull_runs} == {"shopify_daily_pull"}

        # a pull that fails stops the command's wait, naming the run; the close is never asked for
        instance.report_run_failed(pull_runs[0])
        with pytest.raises(BackfillFailed, match=f"shopify_daily_pull run {pull_runs[0].run_id}"):
            wait_for_backfills(instance, [pulls], len(days), Progress(len(days), io.StringIO(), interactive=False),
                               sleep=lambda seconds: None)


def test_a_day_is_closed_only_by_the_close_itself(omnirecon_home, monkeypatch):
    """finance/daily_close alone (an asset backfill from the asset graph) builds and exports nothing: it refuses
    to record the day as closed; without a business day it records none."""
    from orchestration.definitions import defs

    close = defs.resolve_job_def("reconciliation_build")
    with DagsterInstance.ephemeral() as instance:
        alone = close.execute_in_process(instance=instance, partition_key=DAYS[0], asset_selection=[CLOSED],
                                         raise_on_error=False)
        assert not alone.success
        [failure] = [event for event in alone.all_events if event.event_type_value == "STEP_FAILURE"]
        assert "business days are closed by the close job, reconciliation_build" in str(failure.step_failure_data.error)
        no_day = close.execute_in_process(instance=instance, asset_selection=[CLOSED])
        assert no_day.success and not no_day.get_asset_materialization_events()
        assert not instance.get_materialized_partitions(CLOSED)
