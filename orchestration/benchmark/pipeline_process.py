"""The pipeline's own jobs, in a process of their own: `python -m orchestration.benchmark.pipeline_process`.

- `ingest DAY...`: what the inbox sensors, the webhook sensor and the nightly pull schedules start: every
  `<inbox>_load` job, then every `<source>_daily_pull` job for each day (landing, then the raw load).
- `close FIRST LAST`: the close, `reconciliation_build`, over the range in one run (the single-run backfill;
  one day is a partition run).
- `pull DAY...`: only the `<source>_daily_pull` jobs of those days (a new day on top of history).
- `cycle`: the 15-minute `ats_cycle` once (today's WMS movements so far, the inventory models, the ATS pushed).

Both run on the bench home's Dagster instance (DAGSTER_HOME), with the same Runner as `omnirecon run` and
its progress on stderr, and write what the parent needs to split the wall time: every step's start and end
(Dagster's event log), and for the close the run id (it names dbt's target folder) and what the export and
the ATS publication reported.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance

from orchestration.operations import Progress, Runner

ATS_CYCLE = "ats_cycle"

STEP_ENDS = (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_SKIPPED)


def step_times(instance: DagsterInstance, run_id: str) -> list[dict]:
    """Each step of a run with its start and end (epoch seconds), from the run's event log."""
    starts, steps = {}, []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = record.timestamp
        elif event.event_type in STEP_ENDS and event.step_key in starts:
            steps.append({"step": event.step_key, "start": starts[event.step_key], "end": record.timestamp,
                          "status": event.event_type.value})
    return steps


def _metadata(outcome, asset_path: list[str]) -> dict:
    for event in outcome.result.get_asset_materialization_events():
        if event.asset_key.path == asset_path:
            return {key: value.value for key, value in event.materialization.metadata.items()
                    if isinstance(value.value, (int, float))}
    return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["ingest", "close", "pull", "cycle"])
    parser.add_argument("days", nargs="*")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)

    with DagsterInstance.get() as instance:
        runner = Runner(instance, Progress(1))
        if args.action == "ingest":
            runner.progress = Progress(len(runner.jobs_ending("_load"))
                                       + len(args.days) * len(runner.jobs_ending("_daily_pull")))
            runner.take_inbox()
            for day in args.days:
                runner.pull(day)
            extra = {}
        elif args.action == "pull":
            runner.progress = Progress(len(args.days) * len(runner.jobs_ending("_daily_pull")))
            for day in args.days:
                runner.pull(day)
            extra = {}
        elif args.action == "cycle":
            runner.execute(ATS_CYCLE, ATS_CYCLE)
            extra = {}
        else:
            outcome = runner.close(args.days[0], args.days[-1])
            extra = {"close_run_id": outcome.run_id,
                     "erp_export": _metadata(outcome, ["outbound", "erp_posting_export"]),
                     "ats_publication": _metadata(outcome, ["inventory", "ats_publication"])}
        runs = [{"label": o.label, "run_id": o.run_id, "seconds": o.seconds, "steps": step_times(instance, o.run_id)}
                for o in runner.outcomes]
    args.out.write_text(json.dumps({"runs": runs, **extra}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
