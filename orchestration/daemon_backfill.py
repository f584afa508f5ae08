"""Backfills through the instance's daemon, as the UI's "Launch backfill" makes them, for `omnirecon backfill`
when a Dagster daemon runs: the pulls first (a run per day), then the close of the range (one run).

The daemon works a backfill off in its own processes; the command submits it and waits, counting the runs as
they finish (`progress` is orchestration.operations.Progress, or anything with advance() and note()).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from orchestration.partitions import business_days_of_run

BACKFILL_TAG = "dagster/backfill"
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
# A daemon writes a heartbeat every 30 seconds or so; two minutes without one means none is running.
DAEMON_HEARTBEAT_SECONDS = 120
# Dagster's repository name for a code location built from a Definitions object
REPOSITORY_NAME = "__repository__"


class BackfillFailed(Exception):
    """A backfill or one of its runs failed: the message says which and where to look."""


def daemon_is_running(instance: DagsterInstance, now: float | None = None) -> bool:
    """A backfill daemon sent a heartbeat lately: backfills submitted to the instance will be worked off."""
    beat = instance.get_daemon_heartbeats().get("BACKFILL")
    return beat is not None and (now or time.time()) - beat.timestamp < DAEMON_HEARTBEAT_SECONDS


def submit_job_backfill(instance: DagsterInstance, job_name: str, days: list[str], *, location: str = "omnirecon",
                        title: str | None = None) -> str:
    """Ask the instance's backfill daemon for `job_name` over `days`, as the UI's "Launch backfill" does. The
    daemon finds the job in its own workspace by code location name, and follows the job's backfill policy:
    one run per day for the pulls, one run over the whole range for the close."""
    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
    from dagster._core.remote_origin import (RegisteredCodeLocationOrigin, RemotePartitionSetOrigin,
                                             RemoteRepositoryOrigin)
    from dagster._core.remote_representation.external_data import partition_set_snap_name_for_job_name
    from dagster._core.utils import make_new_backfill_id

    backfill_id = make_new_backfill_id()
    origin = RemotePartitionSetOrigin(
        repository_origin=RemoteRepositoryOrigin(RegisteredCodeLocationOrigin(location), REPOSITORY_NAME),
        partition_set_name=partition_set_snap_name_for_job_name(job_name))
    instance.add_backfill(PartitionBackfill(
        backfill_id=backfill_id, status=BulkActionStatus.REQUESTED, from_failure=False, tags={},
        backfill_timestamp=time.time(), partition_set_origin=origin, partition_names=list(days),
        title=title or f"omnirecon backfill {job_name} {days[0]}..{days[-1]}"))
    return backfill_id


def backfill_runs(instance: DagsterInstance, backfill_ids: Iterable[str]) -> list:
    return [run for backfill_id in backfill_ids
            for run in instance.get_runs(RunsFilter(tags={BACKFILL_TAG: backfill_id}))]


def wait_for_backfills(instance: DagsterInstance, backfill_ids: list[str], runs_expected: int, progress,
                       *, poll_seconds: float = 5.0, sleep: Callable[[float], None] = time.sleep) -> list:
    """Until every run the backfills asked for has finished; the progress counts finished runs."""
    from dagster._core.execution.backfill import BulkActionStatus

    reported: set[str] = set()
    while True:
        for backfill_id in backfill_ids:
            backfill = instance.get_backfill(backfill_id)
            if backfill.status in (BulkActionStatus.FAILED, BulkActionStatus.CANCELED):
                raise BackfillFailed(f"backfill {backfill_id} {backfill.status.value.lower()}"
                                      + (f": {backfill.error.message}" if backfill.error else ""))
        runs = backfill_runs(instance, backfill_ids)
        for run in runs:
            if run.status in FINISHED and run.run_id not in reported:
                reported.add(run.run_id)
                progress.advance(f"{run.job_name} {business_days_of_run(run.tags) or ''}: "
                                 f"{run.status.value.lower()}")
        failed = [run for run in runs if run.status in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)]
        if failed:
            raise BackfillFailed(f"{len(failed)} backfill runs failed, e.g. {failed[0].job_name} run "
                                  f"{failed[0].run_id}: see the Backfills page of the Dagster UI")
        if len(reported) >= runs_expected:
            return runs
        sleep(poll_seconds)


def backfill_with_daemon(instance: DagsterInstance, pull_jobs: list[str], close_job: str, days: list[str],
                         progress, **wait_options) -> list:
    """The pulls as one backfill per API source (a run per day), then, once they all finished, the close as
    one backfill over the range, which the daemon runs as one run."""
    pulls = [submit_job_backfill(instance, job, days) for job in pull_jobs]
    progress.note(f"submitted backfills {', '.join(pulls)} (pulls) to the daemon")
    wait_for_backfills(instance, pulls, len(pulls) * len(days), progress, **wait_options)
    close = submit_job_backfill(instance, close_job, days)
    progress.note(f"submitted backfill {close} (the close of {days[0]}..{days[-1]}, one run) to the daemon")
    return wait_for_backfills(instance, [close], 1, progress, **wait_options)
