"""The night runs without a person: pulls of yesterday, the close after them, fresh finance marts, failure alerts."""
from __future__ import annotations

import csv
import json
import threading
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dagster import (DagsterInstance, DefaultScheduleStatus, DefaultSensorStatus, build_schedule_context,
                     build_sensor_context)
# The iterator Dagster's schedule daemon computes ticks with (daylight saving time included).
from dagster._utils.schedules import cron_string_iterator

from orchestration.definitions import defs
from orchestration.defs.automation.alerts import AlertNotDelivered, post_alert, run_failure_alert

REPO_ROOT = Path(__file__).resolve().parents[2]
NEW_YORK = "America/New_York"
API_SOURCES = {"shopify", "stripe", "amazon", "square", "wms", "erp"}
# A summer night, the night clocks spring forward (02:00-02:59 does not exist) and the night they fall back.
NIGHTS = (date(2026, 6, 16), date(2026, 3, 8), date(2026, 11, 1))
WEBHOOK_TOKEN = "s3cr3t-alert-token"
ERP_TOKEN = "erp-token-for-the-loopback"


def _schedule(name: str):
    return defs.resolve_schedule_def(name)


def _first_tick(schedule, night: date) -> datetime:
    """When the daemon fires `schedule` first after midnight of `night`, New York time."""
    midnight = datetime.combine(night, datetime.min.time(), tzinfo=ZoneInfo(NEW_YORK))
    return next(cron_string_iterator(midnight.timestamp(), schedule.cron_schedule, schedule.execution_timezone))


@pytest.fixture(scope="module")
def instance():
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def _evaluate(schedule, tick: datetime, instance: DagsterInstance):
    context = build_schedule_context(instance=instance, scheduled_execution_time=tick,
                                     repository_def=defs.get_repository_def())
    return schedule.evaluate_tick(context).run_requests


def test_the_definitions_load_with_the_night_switched_on():
    repository = defs.get_repository_def()
    schedules = {s.name: s for s in repository.schedule_defs}
    pulls = {job.name.removesuffix("_daily_pull") for job in repository.get_all_jobs()
             if job.name.endswith("_daily_pull")}
    assert pulls == API_SOURCES
    for name in [f"{source}_daily_pull_schedule" for source in pulls] + ["reconciliation_build_schedule",
                                                                          "ats_cycle_schedule"]:
        assert schedules[name].default_status == DefaultScheduleStatus.RUNNING, name
        assert schedules[name].execution_timezone == NEW_YORK, name
    assert repository.get_sensor_def("run_failure_alert").default_status == DefaultSensorStatus.RUNNING


@pytest.mark.parametrize("night", NIGHTS, ids=str)
def test_every_api_source_pulls_yesterday_every_night(night, instance):
    for source in sorted(API_SOURCES):
        schedule = _schedule(f"{source}_daily_pull_schedule")
        tick = _first_tick(schedule, night)
        assert tick.date() == night, (source, tick)
        [request] = _evaluate(schedule, tick, instance)
        assert request.job_name == f"{source}_daily_pull"
        assert request.partition_key == (night - timedelta(days=1)).isoformat(), (source, tick)


@pytest.mark.parametrize("night", NIGHTS, ids=str)
def test_the_close_runs_after_every_pull_and_closes_yesterday(night, instance):
    pulls = {source: _first_tick(_schedule(f"{source}_daily_pull_schedule"), night) for source in API_SOURCES}
    close_schedule = _schedule("reconciliation_build_schedule")
    close = _first_tick(close_schedule, night)
    last_source, last_pull = max(pulls.items(), key=lambda item: item[1])
    # Room for the last pull to finish before the dbt build reads the raw tables.
    assert close - last_pull >= timedelta(minutes=30), (last_source, last_pull, close)
    # The POS pull starts once every store's business day has ended in the store's own time zone.
    with (REPO_ROOT / "dbt_project" / "seeds" / "inventory_locations.csv").open() as seed:
        store_zones = {row["time_zone"] for row in csv.DictReader(seed) if row["location_type"] == "store"}
    assert len(store_zones) > 1
    for zone in store_zones:
        assert pulls["square"] >= datetime.combine(night, datetime.min.time(), tzinfo=ZoneInfo(zone)), zone
    [request] = _evaluate(close_schedule, close, instance)
    assert request.job_name in (None, "reconciliation_build")  # a schedule's own job when None
    assert close_schedule.job_name == "reconciliation_build"
    assert request.tags["omnirecon/business_day"] == (night - timedelta(days=1)).isoformat()
    assert request.partition_key == (night - timedelta(days=1)).isoformat()


def test_the_finance_marts_have_a_freshness_policy_met_by_the_close():
    graph = defs.resolve_asset_graph()
    with_policy = {key.to_user_string(): graph.get(key).freshness_policy for key in graph.get_all_asset_keys()
                   if graph.get(key).freshness_policy is not None}
    finance_models = {f"marts/{path.stem}" for path in (REPO_ROOT / "dbt_project/models/marts/finance").glob("*.sql")}
    assert {"marts/posting_batches", "marts/journal_lines", "marts/settlement_matches"} <= finance_models
    assert set(with_policy) == finance_models
    [policy] = set(with_policy.values())
    assert (policy.deadline_cron, policy.timezone) == ("0 8 * * *", NEW_YORK)
    # The window a materialization must fall in opens no later than the close and closes after it.
    for night in NIGHTS:
        close = _first_tick(_schedule("reconciliation_build_schedule"), night)
        deadline = next(cron_string_iterator(close.timestamp(), policy.deadline_cron, policy.timezone))
        assert deadline.date() == night
        assert deadline - policy.lower_bound_delta <= close < deadline - timedelta(hours=1), (close, deadline)


class Loopback:
    """A vendor API and an alert webhook on 127.0.0.1: GETs are refused (401, a revoked token), POSTs are recorded
    and answered with the next status in `answers` (200 once they run out)."""

    def __init__(self, answers: list[int] | None = None):
        self.answers = list(answers or [])
        self.posts: list[tuple[str, dict]] = []
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self._answer(401, {"error": {"code": "unauthorized", "message": "token revoked"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                loopback.posts.append((self.path, body))
                self._answer(loopback.answers.pop(0) if loopback.answers else 200, {"ok": True})

            def _answer(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback():
    server = Loopback()
    yield server
    server.close()


@pytest.fixture
def failed_pull(omnirecon_home, loopback, monkeypatch):
    """A real erp_daily_pull run of 2026-11-02 that failed (the ERP refused the token), on a fresh instance, and
    the failure sensor's cursor from before it (what its first tick, when the sensor was switched on, stored)."""
    monkeypatch.setenv("ERP_BASE_URL", f"{loopback.url}/api/v1")
    monkeypatch.setenv("ERP_API_TOKEN", ERP_TOKEN)
    with DagsterInstance.ephemeral() as instance:
        started = run_failure_alert.evaluate_tick(build_sensor_context(instance=instance))
        result = defs.resolve_job_def("erp_daily_pull").execute_in_process(
            partition_key="2026-11-02", instance=instance, raise_on_error=False)
        assert not result.success
        yield instance, started.cursor, result.run_id


def test_a_failed_pull_is_posted_to_the_alert_webhook(failed_pull, loopback, monkeypatch, capfd, caplog):
    instance, cursor, run_id = failed_pull
    monkeypatch.setenv("OMNIRECON_ALERT_WEBHOOK_URL", f"{loopback.url}/hooks/omnirecon?token={WEBHOOK_TOKEN}")
    capfd.readouterr()
    tick = run_failure_alert.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor))

    [(path, alert)] = loopback.posts
    assert path == f"/hooks/omnirecon?token={WEBHOOK_TOKEN}"
    assert {key: alert[key] for key in ("job", "run_id", "partition", "business_day", "run_path")} == {
        "job": "erp_daily_pull", "run_id": run_id, "partition": "2026-11-02", "business_day": "2026-11-02",
        "run_path": f"/runs/{run_id}"}
    assert alert["error"].startswith("landing__erp: ") and "401" in alert["error"] and "ErpAPIError" in alert["error"]
    assert alert["text"].startswith("omnirecon: erp_daily_pull failed for 2026-11-02: landing__erp")
    assert [reaction.dagster_run.run_id for reaction in tick.dagster_run_reactions] == [run_id]
    assert all(reaction.error is None for reaction in tick.dagster_run_reactions)
    # The log names the webhook's host, never its path or token.
    logged = caplog.text + "".join(capfd.readouterr())
    assert f"alerted {loopback.url} that erp_daily_pull run {run_id} failed" in logged
    assert WEBHOOK_TOKEN not in logged and "/hooks/" not in logged
    # The cursor moved past the failure: the next tick alerts nobody twice.
    run_failure_alert.evaluate_tick(build_sensor_context(instance=instance, cursor=tick.cursor))
    assert len(loopback.posts) == 1


def test_without_a_webhook_url_the_sensor_says_so_and_posts_nothing(failed_pull, loopback, monkeypatch):
    instance, cursor, run_id = failed_pull
    monkeypatch.delenv("OMNIRECON_ALERT_WEBHOOK_URL", raising=False)
    tick = run_failure_alert.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor))
    assert tick.skip_message == (f"OMNIRECON_ALERT_WEBHOOK_URL is not set: no alert sent for the failed "
                                 f"erp_daily_pull run {run_id}")
    assert loopback.posts == []


def test_an_alert_the_webhook_refuses_fails_the_tick_without_naming_the_url(failed_pull, loopback, monkeypatch):
    instance, cursor, run_id = failed_pull
    monkeypatch.setenv("OMNIRECON_ALERT_WEBHOOK_URL", f"{loopback.url}/hooks/omnirecon?token={WEBHOOK_TOKEN}")
    loopback.answers = [403]  # a revoked webhook: final, not retried
    tick = run_failure_alert.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor))
    [reaction] = tick.dagster_run_reactions
    assert reaction.dagster_run.run_id == run_id and len(loopback.posts) == 1
    assert f"alert to {loopback.url} not delivered after 1 attempt(s): HTTP 403" in reaction.error.to_string()
    assert WEBHOOK_TOKEN not in reaction.error.to_string()


def test_an_alert_is_retried_while_the_webhook_is_unavailable_and_never_names_its_url():
    alert = {"job": "square_daily_pull", "run_id": "r1"}
    flaky = Loopback(answers=[503, 429])
    try:
        url = f"{flaky.url}/hooks/T0/B0/{WEBHOOK_TOKEN}"
        assert post_alert(url, alert, backoff_seconds=0.01) == 3
        assert flaky.posts == [(f"/hooks/T0/B0/{WEBHOOK_TOKEN}", alert)] * 3
        # Down for good: three attempts, then an error that names the host only.
        flaky.answers, flaky.posts = [502, 502, 502], []
        with pytest.raises(AlertNotDelivered) as down:
            post_alert(url, alert, backoff_seconds=0.01)
        assert len(flaky.posts) == 3
        assert str(down.value) == f"alert to {flaky.url} not delivered after 3 attempt(s): HTTP 502"
        # A refusal is final: trying again would be refused again.
        flaky.answers, flaky.posts = [403], []
        with pytest.raises(AlertNotDelivered, match="after 1 attempt"):
            post_alert(url, alert, backoff_seconds=0.01)
        assert len(flaky.posts) == 1
    finally:
        flaky.close()
    # Nobody listening: the connection error is retried and reported without the URL's path.
    with pytest.raises(AlertNotDelivered) as refused:
        post_alert(f"{flaky.url}/hooks/x?token={WEBHOOK_TOKEN}", alert, backoff_seconds=0.01, timeout=2)
    assert str(refused.value) == f"alert to {flaky.url} not delivered after 3 attempt(s): ConnectionError"
    assert refused.value.__context__ is None and refused.value.__cause__ is None
