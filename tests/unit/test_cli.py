"""`omnirecon run|backfill|replay|status|sandbox serve`: what the arguments become, what they refuse, and the
small pieces the commands print with (business-day ranges, the progress counter, the status tables)."""
from __future__ import annotations

import io
import os
import stat
import time
from datetime import date, datetime, timezone

import pytest
import requests

from connectors.sandbox.simulator import SandboxConfig
from orchestration import cli, daemon_backfill, operations, status_report
from orchestration.partitions import BusinessDayError, business_days_between, last_closed_business_day


@pytest.fixture
def calls(monkeypatch):
    """The operations the CLI hands its work to, recorded instead of run."""
    made = []
    for name in ("run_command", "backfill_command", "replay_command", "status_command", "sandbox_serve_command"):
        monkeypatch.setattr(operations, name, lambda *args, _name=name, **kwargs: made.append((_name, args, kwargs)) or 0)
    return made


def _refused(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    return capsys.readouterr().err


def test_run_takes_one_day_or_a_range_of_days(calls):
    assert cli.main(["run", "--date", "2026-11-02"]) == 0
    assert cli.main(["run", "--from", "2026-11-02", "--to", "2026-11-04", "--log-level", "info"]) == 0
    assert calls == [("run_command", (["2026-11-02"], "warning"), {}),
                     ("run_command", (["2026-11-02", "2026-11-03", "2026-11-04"], "info"), {})]


def test_backfill_and_replay_take_a_range(calls):
    assert cli.main(["backfill", "--from", "2026-10-31", "--to", "2026-11-01"]) == 0
    assert cli.main(["backfill", "--from", "2026-11-02", "--to", "2026-11-02", "--in-process"]) == 0
    assert cli.main(["replay", "--from", "2026-11-02", "--to", "2026-11-15"]) == 0
    assert calls[0] == ("backfill_command", (["2026-10-31", "2026-11-01"], "warning"), {"in_process": False})
    assert calls[1] == ("backfill_command", (["2026-11-02"], "warning"), {"in_process": True})
    assert calls[2][0] == "replay_command" and len(calls[2][1][0]) == 14


@pytest.mark.parametrize(("argv", "says"), [
    (["run"], "which business days? --date D, or --from D --to D"),
    (["run", "--date", "2026-11-02", "--from", "2026-11-02"], "give --date, or --from and --to, not both"),
    (["run", "--from", "2026-11-02"], "--from and --to go together"),
    (["backfill", "--to", "2026-11-02"], "the following arguments are required: --from"),
    (["replay"], "the following arguments are required: --from, --to"),
    (["backfill", "--from", "2026-11-05", "--to", "2026-11-02"], "the range ends (2026-11-02) before it starts"),
    (["replay", "--from", "2024-12-31", "--to", "2025-01-02"], "2024-12-31 is before the first business day"),
    (["run", "--date", "2026-11-31"], "not a business day (YYYY-MM-DD): '2026-11-31'"),
    (["backfill", "--from", "2026-11-02", "--to", "2026-11-03", "--date", "2026-11-02"],
     "unrecognized arguments: --date 2026-11-02"),
    (["run", "--date", "2026-11-02", "--log-level", "loud"], "invalid choice: 'loud'"),
])
def test_days_that_cannot_be_run_are_refused_before_any_work(calls, capsys, argv, says):
    assert says in _refused(capsys, argv)
    assert calls == []


def test_a_day_that_has_not_ended_is_refused(calls, capsys):
    today = datetime.now(timezone.utc).date().isoformat()
    assert "has not ended yet in America/New_York" in _refused(capsys, ["run", "--date", today])
    assert calls == []


def test_status_and_sandbox_serve_pass_their_options(calls):
    assert cli.main(["status", "--runs", "3"]) == 0
    assert cli.main(["sandbox", "serve", "--days", "2", "--seed", "7", "--start-date", "2026-10-05"]) == 0
    assert calls[0] == ("status_command", (3,), {})
    name, (config,), _ = calls[1]
    assert name == "sandbox_serve_command"
    assert (config.days, config.seed, config.start_date) == (2, 7, date(2026, 10, 5))


def test_the_last_business_day_is_the_one_that_ended_in_new_york():
    # 03:30 UTC on the 26th is 22:30 on the 25th in New York: the 25th has not ended yet.
    assert last_closed_business_day(datetime(2026, 11, 26, 3, 30, tzinfo=timezone.utc)) == date(2026, 11, 24)
    assert last_closed_business_day(datetime(2026, 11, 26, 5, 30, tzinfo=timezone.utc)) == date(2026, 11, 25)
    after_midnight = datetime(2026, 11, 26, 5, 30, tzinfo=timezone.utc)
    assert business_days_between(date(2026, 11, 24), date(2026, 11, 25), after_midnight) == ["2026-11-24",
                                                                                            "2026-11-25"]
    with pytest.raises(BusinessDayError, match="2026-11-25 has not ended yet"):
        business_days_between(date(2026, 11, 24), date(2026, 11, 25), datetime(2026, 11, 26, 3, 30,
                                                                                tzinfo=timezone.utc))


def test_progress_redraws_one_bar_on_a_terminal_and_writes_lines_elsewhere():
    log = io.StringIO()
    progress = operations.Progress(4, log, interactive=False)
    progress.advance("shopify_daily_pull 2026-11-02: ok (1.0s)")
    progress.note("a note")
    progress.advance("reconciliation_build 2026-11-02: ok (60.0s)")
    assert log.getvalue().splitlines() == ["[######..................] 1/4 shopify_daily_pull 2026-11-02: ok (1.0s)",
                                           "a note",
                                           "[############............] 2/4 reconciliation_build 2026-11-02: ok (60.0s)"]
    terminal = io.StringIO()
    bar = operations.Progress(2, terminal, interactive=True)
    bar.advance("one")
    bar.advance("two")
    assert terminal.getvalue() == "\r\033[K[############............] 1/2 one\r\033[K[########################] 2/2 two\n"


def test_closed_days_fold_into_ranges_and_tables_line_up():
    days = ["2026-11-03", "2026-11-02", "2026-11-05", "2026-11-04", "2026-11-09", "2026-11-02"]
    assert status_report.day_ranges(days) == [("2026-11-02", "2026-11-05"), ("2026-11-09", "2026-11-09")]
    assert status_report.day_ranges([]) == []
    table = status_report.render_table(["batch", "status"], [["b-1", "ready"], ["batch-22", None]], "none")
    assert table.splitlines() == ["  batch     status", "  b-1       ready", "  batch-22"]
    assert status_report.render_table(["batch"], [], "no batch is held") == "  no batch is held"


def test_warehouse_status_says_what_is_not_built_yet():
    def fetchall(sql):
        if "exception_queue" in sql:
            raise RuntimeError("Catalog Error: Table with name exception_queue does not exist!")
        if "group by status" in sql:
            return [("blocked", 2, date(2026, 11, 3), date(2026, 11, 4)), ("ready", 9, date(2026, 11, 2),
                                                                           date(2026, 11, 5))]
        return []

    text = status_report.warehouse_status(fetchall)
    assert "not available yet (Catalog Error: Table with name exception_queue does not exist!)" in text
    assert "  ready    9        2026-11-02          2026-11-05" in text
    assert "no batch is held" in text and "nothing posted yet" in text


def test_the_daemon_counts_as_running_only_with_a_recent_heartbeat():
    from dagster import DagsterInstance
    from dagster._daemon.types import DaemonHeartbeat

    with DagsterInstance.ephemeral() as instance:
        assert not daemon_backfill.daemon_is_running(instance)
        instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), "BACKFILL", "daemon-1", errors=[]))
        assert daemon_backfill.daemon_is_running(instance)
        assert not daemon_backfill.daemon_is_running(instance, now=time.time() + 600)


def test_status_of_a_new_home_says_there_is_nothing_yet(omnirecon_home, monkeypatch, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(omnirecon_home / "dagster_home"))
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "no runs yet" in out and "Business days closed (finance/daily_close materialized): none yet" in out
    assert f"no warehouse yet at {omnirecon_home / 'warehouse.duckdb'}" in out
    assert not (omnirecon_home / "warehouse.duckdb").exists()  # status never creates a warehouse


def test_sandbox_serve_answers_on_loopback_and_keeps_credentials_out_of_the_terminal(omnirecon_home, capsys):
    seen = {}

    def while_serving():
        env_file = omnirecon_home / "sandbox" / "sandbox.env"
        seen["mode"] = stat.S_IMODE(os.stat(env_file).st_mode)
        env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        seen["env"] = env
        answer = requests.get(f"{env['ERP_BASE_URL']}/gl-accounts", timeout=5,
                              headers={"Authorization": f"Bearer {env['ERP_API_TOKEN']}"})
        seen["erp"] = answer.status_code

    config = SandboxConfig(days=1, orders_per_day=2)
    assert operations.sandbox_serve_command(config, stop=while_serving) == 0
    out = capsys.readouterr().out
    assert seen["mode"] == 0o600 and seen["erp"] == 200
    assert f"ERP_BASE_URL={seen['env']['ERP_BASE_URL']}" in out and "ERP_API_TOKEN=(in the file)" in out
    for key in ("ERP_API_TOKEN", "SHOPIFY_ACCESS_TOKEN", "STRIPE_WEBHOOK_SECRET", "ADYEN_HMAC_KEY", "AMAZON_LWA_CLIENT_ID"):
        assert seen["env"][key] not in out, key
    assert out.rstrip().endswith("sandbox stopped")
