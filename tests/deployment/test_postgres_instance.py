"""The production Dagster instance (docker/dagster.yaml) on the real PostgreSQL.

Runs and their event logs are stored in PostgreSQL, and the daemon's state (which sensors and
schedules are on, each sensor's last tick and run key) outlives the daemon: a new instance opened
from the same dagster.yaml carries on where the old one stopped, asking for no run twice.

omnirecon's sensors keep no cursor of their own: each asks for a run under a run key derived from
what it found (the stored webhook events, the dropped files), and what a restarted daemon resumes from
is the state stored here: the sensor's last run key and the runs already requested under each key.

The sensor is evaluated the way dagster-daemon does it (execute_sensor_iteration), against the code
location served by the image's own command, `dagster api grpc -m orchestration.definitions`.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg2
import pytest
import yaml
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType, TickStatus
from dagster._core.storage.dagster_run import RunsFilter
from dagster._core.storage.tags import RUN_KEY_TAG, SENSOR_NAME_TAG
from dagster._core.test_utils import freeze_time
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import GrpcServerTarget
from dagster._daemon.sensor import execute_sensor_iteration
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.server import wait_for_grpc_server
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from connectors.webhooks.event_store import EventStore, WebhookEvent
from tests.deployment.deployment_files import DOCKER, REPO_ROOT, compose, stage_command

SENSOR = "webhook_events_stored"
SENSOR_INTERVAL = timedelta(seconds=31)  # just past the sensor's minimum_interval_seconds (30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _store_event(landing_root: Path, order_id: int) -> None:
    """A Shopify orders/delete webhook (its body is the order id), as the receiver stores it."""
    stored = EventStore(landing_root).store(WebhookEvent(
        vendor="shopify", event_id=f"orders-delete-{order_id}", topic="orders/delete",
        received_at=datetime(2026, 11, 27, 14, 5, tzinfo=timezone.utc), body=json.dumps({"id": order_id}),
        request_path="/webhooks/shopify", headers={"X-Shopify-Topic": "orders/delete"}))
    assert stored


@pytest.fixture(scope="module")
def deployment(postgres_server, tmp_path_factory):
    """What docker-compose.yml runs, minus Docker: a scratch database for Dagster's storage, and the
    user_code service (the image's gRPC command, on loopback) with its own omnirecon home.

    The code server is started once per module and not waited for here, so that it boots while the
    first test loads the definitions in process; the tests that talk to it wait for it."""
    name = f"omnirecon_dagster_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host=postgres_server["host"], port=postgres_server["port"],
                             user=postgres_server["user"], dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"create database {name}")
    # The DAGSTER_PG_* variables docker/dagster.yaml reads (the test server trusts loopback: no password).
    pg_env = {"DAGSTER_PG_HOST": postgres_server["host"], "DAGSTER_PG_PORT": str(postgres_server["port"]),
              "DAGSTER_PG_USERNAME": postgres_server["user"], "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": name}

    command = list(compose()["services"]["user_code"]["command"])
    port = code_server_port = _free_port()
    command[command.index("-h") + 1] = "127.0.0.1"
    command[command.index("-p") + 1] = str(port)
    command[0] = str(Path(sys.executable).with_name(command[0]))  # the venv's dagster
    home = tmp_path_factory.mktemp("user_code") / "omnirecon"
    env = {**os.environ, **pg_env, "OMNIRECON_HOME": str(home), "OMNIRECON_DUCKDB_PATH": str(home / "warehouse.duckdb")}
    for unset in ("OMNIRECON_LANDING_ROOT", "OMNIRECON_EXPORT_ROOT", "DAGSTER_HOME"):
        env.pop(unset, None)
    log = home.parent / "user_code.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    location = yaml.safe_load((DOCKER / "workspace.yaml").read_text())["load_from"][0]["grpc_server"]

    class Deployment:
        port = code_server_port
        dsn = f"postgresql://{postgres_server['user']}@{postgres_server['host']}:{postgres_server['port']}/{name}"
        environment = pg_env
        landing_root = home / "landing"
        # docker/workspace.yaml's code location, at the loopback port instead of the user_code service.
        code_location = GrpcServerTarget(host="127.0.0.1", port=port, socket=None,
                                         location_name=location["location_name"])

        @staticmethod
        def wait_until_serving() -> None:
            # A bound on waiting only, so a server that never comes up fails instead of hanging.
            try:
                wait_for_grpc_server(process, DagsterGrpcClient(port=port, host="127.0.0.1"), command, timeout=180)
            except Exception as error:
                pytest.fail(f"{error}\n{log.read_text()[-3000:]}")

    try:
        yield Deployment
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {name} with (force)")
        admin.close()


@pytest.fixture
def production_instance(deployment, tmp_path, monkeypatch):
    """DAGSTER_HOME holding docker/dagster.yaml, as the image has it, and the deployment's DAGSTER_PG_*."""
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(DOCKER / "dagster.yaml", dagster_home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    for name, value in deployment.environment.items():
        monkeypatch.setenv(name, value)
    return deployment


def _query(dsn: str, sql: str, *params) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def test_a_run_and_its_event_log_are_stored_in_postgresql(production_instance, omnirecon_home):
    from orchestration.definitions import defs

    _store_event(omnirecon_home / "landing", 1001)
    with DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        # The job's load step; its data-quality check step (Great Expectations: seconds to start) is
        # tested in tests/integration/test_data_quality.py.
        result = defs.resolve_job_def("webhook_events_load").execute_in_process(
            instance=instance, op_selection=["webhook_events"])
        assert result.success
        run_id = result.run_id

    # A new instance, as the webserver would open it, reads the run back from PostgreSQL.
    with DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        assert run.job_name == "webhook_events_load" and run.status == DagsterRunStatus.SUCCESS
        [loaded] = instance.fetch_materializations(AssetKey(["raw_webhooks", "events"]), limit=10).records
        assert loaded.run_id == run_id
        assert loaded.asset_materialization.metadata["events_loaded"].value == 1

    # And the rows are there, in Dagster's own tables.
    dsn = production_instance.dsn
    assert _query(dsn, "select pipeline_name, status from runs where run_id = %s", run_id) == [
        ("webhook_events_load", "SUCCESS")]
    kinds = dict(_query(dsn, "select dagster_event_type, count(*) from event_logs where run_id = %s "
                             "group by dagster_event_type", run_id))
    assert kinds[DagsterEventType.RUN_SUCCESS.value] == 1
    assert kinds[DagsterEventType.ASSET_MATERIALIZATION.value] == 2  # raw_webhooks/events and /_quarantine
    assert ('["raw_webhooks", "events"]',) in _query(dsn, "select asset_key from asset_keys")


class Daemon:
    """One lifetime of dagster-daemon: an instance opened from dagster.yaml and the code location."""

    def __init__(self, instance: DagsterInstance, workspace: WorkspaceProcessContext):
        self.instance, self.workspace = instance, workspace
        entry = next(iter(workspace.create_request_context().get_code_location_entries().values()))
        assert entry.code_location is not None, f"the code server did not load: {entry.load_error}"
        [self.repository] = entry.code_location.get_repositories().values()

    def sensor_tick(self, at: datetime) -> None:
        """One pass of the sensor daemon, as `dagster-daemon run` makes it, at `at`."""
        with freeze_time(at):
            list(execute_sensor_iteration(self.workspace, logging.getLogger("sensor_daemon"), None, None))

    def sensor_runs(self):
        return self.instance.get_runs(filters=RunsFilter(tags={SENSOR_NAME_TAG: SENSOR}))


@contextmanager
def daemon(code_location: GrpcServerTarget):
    with DagsterInstance.get() as instance, WorkspaceProcessContext(instance, code_location) as workspace:
        yield Daemon(instance, workspace)


def test_sensor_and_schedule_state_resume_after_a_restart(production_instance):
    deployment = production_instance
    deployment.wait_until_serving()
    start = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)

    with daemon(deployment.code_location) as first:
        # A data engineer turns the webhook sensor on and switches every schedule away from its
        # default (pauses the nightly pulls for an ERP cutover, say).
        sensor = first.repository.get_sensor(SENSOR)
        first.instance.start_sensor(sensor)
        origin_id, selector_id = sensor.get_remote_origin_id(), sensor.selector_id
        schedules = {schedule.name: schedule for schedule in first.repository.get_schedules()}
        assert schedules, "the code location has no schedule"
        switched_on = {}
        for name, schedule in schedules.items():
            switched_on[name] = not schedule.get_current_instigator_state(None).is_running
            if switched_on[name]:
                first.instance.start_schedule(schedule)
            else:
                first.instance.stop_schedule(schedule.get_remote_origin_id(), schedule.selector_id, schedule)

        first.sensor_tick(start)  # nothing stored yet: skipped
        _store_event(deployment.landing_root, 2001)
        first.sensor_tick(start + SENSOR_INTERVAL)
        first_key = first.instance.get_instigator_state(origin_id, selector_id).instigator_data.last_run_key
        [requested] = first.sensor_runs()
        # Queued by the QueuedRunCoordinator, for the daemon's run queue to launch.
        assert requested.status == DagsterRunStatus.QUEUED and requested.job_name == "webhook_events_load"
        assert first_key and requested.tags[RUN_KEY_TAG] == first_key
    assert _query(deployment.dsn, "select status from runs where run_id = %s", requested.run_id) == [("QUEUED",)]

    # The daemon restarts: a new instance from the same dagster.yaml finds what the old one left...
    with daemon(deployment.code_location) as second:
        state = second.instance.get_instigator_state(origin_id, selector_id)
        assert sensor.get_current_instigator_state(state).is_running
        assert state.instigator_data.last_run_key == first_key
        ticks = second.instance.get_ticks(origin_id, selector_id)
        assert [t.status for t in ticks] == [TickStatus.SUCCESS, TickStatus.SKIPPED]  # newest first
        assert ticks[0].run_ids == [requested.run_id]
        stored = {state.origin.instigator_name: state
                  for state in second.instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)}
        assert set(stored) == set(schedules)
        for name, schedule in schedules.items():
            assert schedule.get_current_instigator_state(stored[name]).is_running == switched_on[name], name
            assert stored[name].status == (InstigatorStatus.RUNNING if switched_on[name] else InstigatorStatus.STOPPED)

        # ...and carries on from it: the same events ask for no second run, a new event asks for one.
        second.sensor_tick(start + 2 * SENSOR_INTERVAL)
        assert [r.run_id for r in second.sensor_runs()] == [requested.run_id]
        [again] = second.instance.get_ticks(origin_id, selector_id, limit=1)
        # the sensor asked for the same run key, and the daemon found its run in PostgreSQL
        assert again.status == TickStatus.SKIPPED and again.run_keys == [first_key] and again.run_ids == []
        _store_event(deployment.landing_root, 2002)
        second.sensor_tick(start + 3 * SENSOR_INTERVAL)
        newest, oldest = second.sensor_runs()
        assert oldest.run_id == requested.run_id and newest.tags[RUN_KEY_TAG] != first_key
        assert second.instance.get_instigator_state(origin_id, selector_id).instigator_data.last_run_key == \
            newest.tags[RUN_KEY_TAG]
    assert _query(deployment.dsn, "select count(*) from job_ticks where selector_id = %s", selector_id) == [(4,)]


def test_the_image_healthcheck_passes_once_the_code_location_serves(deployment):
    """The user_code image's HEALTHCHECK, which compose waits on before starting the webserver and daemon."""
    deployment.wait_until_serving()
    healthcheck = stage_command("user_code", "HEALTHCHECK")
    healthcheck[healthcheck.index("-p") + 1] = str(deployment.port)
    healthcheck[0] = str(Path(sys.executable).with_name(healthcheck[0]))
    subprocess.run(healthcheck, check=True, capture_output=True)
    healthcheck[healthcheck.index("-p") + 1] = str(_free_port())  # and fails where nothing serves
    assert subprocess.run(healthcheck, capture_output=True).returncode != 0
