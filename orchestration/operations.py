"""What a data engineer runs by hand: closing days, backfilling and replaying date ranges (`omnirecon run`,
`backfill`, `replay`), on the local Dagster instance, with the same jobs the schedules run.

- run: the inbox and stored webhooks are taken, then each business day in turn, as the night would: every
  API source pulls the day (one `<source>_daily_pull` run each), then the close (`reconciliation_build`) runs
  for that day's partition.
- backfill: the pulls of every day of the range, then ONE close run for the whole range: the dbt models have
  a single-run backfill policy and are rebuilt in full, so closing fourteen days once gives the marts that
  fourteen daily closes end with, and the ERP export (deterministic batch ids, outbound.erp_exported_batches)
  posts no batch twice whichever way the days were closed (daily closes may reverse and rebook a day's batch
  that later data changed; a backfill exports its final content). With a Dagster daemon up, the pulls and
  then the close go to the instance's backfill machinery (they show under Backfills in the UI); otherwise
  they run here, in process.
- replay: the raw tables of the range are reloaded from the landing zone (the rows that came from files
  landed for those days are dropped first, then the files loaded again), then the close rebuilds without
  its outbound assets (ERP export, ATS publication) and without recording days closed: no vendor API is
  called or even configured.

Long work shows a counter on stderr (Progress), and Dagster's own log at the chosen level.
"""
from __future__ import annotations

import contextlib
import io
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dagster import AssetKey, DagsterInstance, Field, logger

from orchestration.daemon_backfill import BackfillFailed, backfill_with_daemon, daemon_is_running
from orchestration.partitions import range_tags
from orchestration.raw_replay import ReplayReport, reload_raw_tables
from orchestration.status_report import DAILY_CLOSE, REPLAYED_TAG, instance_status, read_only_fetchall, warehouse_status

CLOSE_JOB = "reconciliation_build"
ERP_EXPORT = AssetKey(["outbound", "erp_posting_export"])
# What a replay leaves out of the close: the assets that call a vendor's API, and the record of days closed
# (a replay rebuilds, it does not close).
NOT_REPLAYED = (ERP_EXPORT, AssetKey(["inventory", "ats_publication"]), DAILY_CLOSE)


class OperationFailed(Exception):
    """A run failed: the message says which and where to look."""


# ---- progress --------------------------------------------------------------------------------------------
class Progress:
    """A counter of the runs a command will do, on stderr: a bar redrawn in place on a terminal, one line per
    step otherwise (a CI log or a file keeps every step)."""

    WIDTH = 24

    def __init__(self, total: int, stream=None, *, interactive: bool | None = None):
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive

    def line(self, label: str) -> str:
        filled = round(self.WIDTH * self.done / self.total)
        return f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total} {label}"

    def advance(self, label: str) -> None:
        self.done = min(self.done + 1, self.total)
        if self.interactive:
            end = "\n" if self.done == self.total else ""
            self.stream.write("\r\033[K" + self.line(label) + end)
        else:
            self.stream.write(self.line(label) + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A line of its own that the bar does not overwrite."""
        self.stream.write(("\r\033[K" if self.interactive else "") + text + "\n")
        self.stream.flush()


# ---- running jobs in process -----------------------------------------------------------------------------
# dagster-dbt says, for each dbt test on a source, that it records it as an observation (the raw tables are
# not dbt's assets, so their tests cannot be its asset checks): some ninety identical warnings every close.
# The terminal leaves them out; the run's log in the Dagster UI keeps them.
EXPECTED_NOISE = "Logging an `AssetObservation` instead of an `AssetCheckResult`"


class _WithoutExpectedNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return EXPECTED_NOISE not in record.getMessage()


@logger(Field({"log_level": Field(str, is_required=False, default_value="WARNING")}),
        description="Dagster's log on stderr, without dagster-dbt's notes on dbt source tests.")
def terminal_logger(init_context) -> logging.Logger:
    log = logging.Logger("dagster", level=init_context.logger_config["log_level"].upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s - dagster - %(levelname)s - %(message)s"))
    log.addHandler(handler)
    log.addFilter(_WithoutExpectedNoise())
    return log


@dataclass
class RunOutcome:
    label: str
    run_id: str
    success: bool
    seconds: float
    result: object = field(repr=False, default=None)  # dagster ExecuteInProcessResult


@dataclass
class Runner:
    """Runs the code location's jobs in this process on one Dagster instance, one after the other."""

    instance: DagsterInstance
    progress: Progress
    log_level: str = "warning"
    outcomes: list[RunOutcome] = field(default_factory=list)

    @property
    def defs(self):
        from orchestration.definitions import defs

        return defs

    def jobs_ending(self, suffix: str) -> list[str]:
        return sorted(job.name for job in self.defs.jobs if job.name.endswith(suffix))

    def execute(self, job_name: str, label: str, **options) -> RunOutcome:
        job = self.defs.resolve_job_def(job_name).with_logger_defs({"console": terminal_logger})
        started = time.monotonic()
        config = {"loggers": {"console": {"config": {"log_level": self.log_level.upper()}}}}
        # dbt prints its own log on stdout: kept for a failure, quiet otherwise (Dagster's log is on stderr).
        output = io.StringIO()
        with contextlib.redirect_stdout(output) if self.log_level.lower() != "debug" else contextlib.nullcontext():
            result = job.execute_in_process(instance=self.instance, run_config=config, raise_on_error=False, **options)
        outcome = RunOutcome(label, result.run_id, result.success, time.monotonic() - started, result)
        self.outcomes.append(outcome)
        self.progress.advance(f"{label}: {'ok' if outcome.success else 'FAILED'} ({outcome.seconds:.1f}s)")
        if not outcome.success:
            tail = output.getvalue()[-4000:]
            raise OperationFailed(f"{label} failed (run {result.run_id}): see the run in the Dagster UI"
                                  + (f"\n{tail}" if tail.strip() else ""))
        return outcome

    def take_inbox(self) -> None:
        """What the inbox sensors and the webhook sensor would start: every new file and stored event loaded."""
        for name in self.jobs_ending("_load"):
            self.execute(name, name)

    def pull(self, day: str) -> None:
        for name in self.jobs_ending("_daily_pull"):
            self.execute(name, f"{name} {day}", partition_key=day)

    def close(self, first: str, last: str) -> RunOutcome:
        """The close of one day (a partition) or of a range (one run over it: the single-run backfill)."""
        span = first if first == last else f"{first}..{last}"
        options = {"partition_key": first} if first == last else {"tags": range_tags(first, last)}
        return self.execute(CLOSE_JOB, f"{CLOSE_JOB} {span}", **options)

    def rebuild(self, first: str, last: str) -> RunOutcome:
        """The close without what calls a vendor or records days closed: dbt, the gate, the exception queue and
        the summary, in one run tagged with the days replayed."""
        span = first if first == last else f"{first}..{last}"
        keys = self.defs.resolve_job_def(CLOSE_JOB).asset_layer.executable_asset_keys - set(NOT_REPLAYED)
        return self.execute(CLOSE_JOB, f"{CLOSE_JOB} {span} (rebuild, no outbound)",
                            asset_selection=sorted(keys, key=lambda key: key.to_user_string()),
                            tags={REPLAYED_TAG: span})


def runs_needed(days: int, pulls: int, inbox_jobs: int, closes: int) -> int:
    return inbox_jobs + days * pulls + closes


def run_days(runner: Runner, days: list[str]) -> list[RunOutcome]:
    """Close each day in turn, as the nightly schedules do: the inbox, the day's pulls, the day's close."""
    runner.take_inbox()
    closes = []
    for day in days:
        runner.pull(day)
        closes.append(runner.close(day, day))
    return closes


def backfill_in_process(runner: Runner, days: list[str]) -> RunOutcome:
    """The inbox, the pulls of every day, then one close run over the whole range."""
    runner.take_inbox()
    for day in days:
        runner.pull(day)
    return runner.close(days[0], days[-1])


# ---- replay ----------------------------------------------------------------------------------------------
def replay(runner: Runner, warehouse_connect: Callable, landing, days: list[str]) -> tuple[ReplayReport, RunOutcome]:
    """Reload the range's raw tables from the landing zone, then rebuild it without calling any API."""
    with warehouse_connect() as warehouse:
        report = reload_raw_tables(warehouse, landing, days)
    runner.progress.advance(f"raw tables reloaded from the landing zone: {report.line()}")
    return report, runner.rebuild(days[0], days[-1])


# ---- what a close did ------------------------------------------------------------------------------------
def close_summary(outcome: RunOutcome) -> str:
    """One line from the close's ERP export: what it posted, what was exported before, what it holds."""
    events = [event for event in outcome.result.get_asset_materialization_events()
              if event.asset_key == ERP_EXPORT]
    if not events:
        return "no ERP export in this run"
    meta = events[-1].materialization.metadata

    def value(key):
        return meta[key].value if key in meta else 0

    return (f"ERP: {value('batches_posted_to_erp')} batches posted, {value('batches_already_exported')} exported "
            f"before, {value('batches_held')} held, {value('batches_corrected')} corrected, "
            f"{value('batches_refused_by_erp')} refused")


# ---- the sandbox retailer, served for a session ----------------------------------------------------------
SANDBOX_SECRETS = ("TOKEN", "KEY", "SECRET", "CLIENT_ID")  # in a variable name: a credential


def sandbox_env_file(env: dict[str, str], path) -> None:
    """The sandbox's variables in a file only its owner reads: credentials stay out of the terminal's history."""
    import os
    import shlex

    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("".join(f"{key}={shlex.quote(value)}\n" for key, value in sorted(env.items())))


def sandbox_banner(env: dict[str, str], env_file) -> str:
    """What to point omnirecon at: each variable, credentials shown by name only (they are in the file)."""
    lines = [f"  {key}=" + ("(in the file)" if any(word in key for word in SANDBOX_SECRETS) else value)
             for key, value in sorted(env.items())]
    return "\n".join([
        "sandbox retailer serving on loopback; its variables:", *lines,
        f"load them all in a shell with:  set -a; . {env_file}; set +a",
        "then e.g. `omnirecon run --date <day>` or `omnirecon backfill --from <day> --to <day>`; Ctrl-C stops it.",
    ])


# ---- the commands ----------------------------------------------------------------------------------------
@contextlib.contextmanager
def local_runner(log_level: str):
    """A Runner on the local instance (OMNIRECON_HOME's, or DAGSTER_HOME's), closed afterwards."""
    from orchestration.demo import prepare_local_instance

    prepare_local_instance()
    with DagsterInstance.get() as instance:
        yield Runner(instance, Progress(1), log_level=log_level)


def _counts(runner: Runner) -> tuple[int, int]:
    return len(runner.jobs_ending("_daily_pull")), len(runner.jobs_ending("_load"))


def run_command(days: list[str], log_level: str = "warning") -> int:
    """`omnirecon run`: close each day in turn (inbox, the day's pulls, the day's close)."""
    with local_runner(log_level) as runner:
        pulls, inbox = _counts(runner)
        runner.progress = Progress(runs_needed(len(days), pulls, inbox, closes=len(days)))
        try:
            closes = run_days(runner, days)
        except OperationFailed as error:
            runner.progress.note(f"omnirecon run: {error}")
            return 1
    for day, outcome in zip(days, closes):
        print(f"{day} closed (run {outcome.run_id[:8]}): {close_summary(outcome)}")
    return 0


def backfill_command(days: list[str], log_level: str = "warning", in_process: bool = False) -> int:
    """`omnirecon backfill`: the range's pulls, then one close over the range (the daemon's, when one runs)."""
    span = f"{days[0]}..{days[-1]} ({len(days)} business days)"
    with local_runner(log_level) as runner:
        pulls, inbox = _counts(runner)
        try:
            if not in_process and daemon_is_running(runner.instance):
                runner.progress = Progress(runs_needed(len(days), pulls, 0, closes=1))
                runner.progress.note(f"a Dagster daemon is running: backfilling {span} through it")
                runs = backfill_with_daemon(runner.instance, runner.jobs_ending("_daily_pull"), CLOSE_JOB, days,
                                            runner.progress)
                print(f"backfill of {span} done: close run {runs[0].run_id[:8]} (see it in the Dagster UI)")
                return 0
            runner.progress = Progress(runs_needed(len(days), pulls, inbox, closes=1))
            runner.progress.note(f"no Dagster daemon is running: backfilling {span} in this process")
            outcome = backfill_in_process(runner, days)
        except (OperationFailed, BackfillFailed) as error:
            runner.progress.note(f"omnirecon backfill: {error}")
            return 1
        except KeyboardInterrupt:
            runner.progress.note("stopped waiting: a backfill submitted to the daemon goes on (see the Dagster UI)")
            return 130
    print(f"backfill of {span} closed in one run ({outcome.run_id[:8]}): {close_summary(outcome)}")
    return 0


def replay_command(days: list[str], log_level: str = "warning") -> int:
    """`omnirecon replay`: the range's raw tables again from the landing zone, then the rebuild, no API."""
    from connectors.landing_zone import LandingZone
    from orchestration import local_paths
    from orchestration.resources import WarehouseResource

    with local_runner(log_level) as runner:
        runner.progress = Progress(2)
        try:
            report, outcome = replay(runner, WarehouseResource(target=_target()).connect,
                                     LandingZone(local_paths.landing_root()), days)
        except OperationFailed as error:
            runner.progress.note(f"omnirecon replay: {error}")
            return 1
    print(f"replay of {days[0]}..{days[-1]}: {report.line()}; rebuilt in run {outcome.run_id[:8]} "
          "(nothing exported or published: the next close posts what changed)")
    return 0


def _target() -> str:
    import os

    return os.environ.get("OMNIRECON_TARGET", "duckdb")


def status_command(runs: int = 10) -> int:
    """`omnirecon status`: the instance's runs and closed days, then finance's side from the warehouse."""
    from orchestration import local_paths
    from orchestration.demo import prepare_local_instance
    from orchestration.resources import WarehouseResource

    home = prepare_local_instance()
    print(f"omnirecon home {home}; Dagster instance {local_paths.dagster_home()}")
    with DagsterInstance.get() as instance:
        print(instance_status(instance, runs))
    target = _target()
    try:
        opened = read_only_fetchall(target, local_paths.duckdb_path(), WarehouseResource(target=target).dsn())
    except Exception as error:  # DuckDB while a run writes to it (one writer, no reader beside it), a server down
        print(f"the warehouse cannot be read now: {str(error).splitlines()[0]}")
        return 1
    if opened is None:
        print(f"no warehouse yet at {local_paths.duckdb_path()}: run `omnirecon run` or `omnirecon demo` first")
        return 0
    fetchall, close = opened
    try:
        print(warehouse_status(fetchall))
    finally:
        close()
    return 0


def sandbox_serve_command(config, stop: Callable[[], None] | None = None) -> int:
    """`omnirecon sandbox serve`: the sandbox retailer's APIs on loopback and its files in its inbox, until
    Ctrl-C (or until `stop` returns, for a test)."""
    from connectors.sandbox.retailer import start_sandbox
    from orchestration import local_paths

    folder = local_paths.home() / "sandbox"
    with start_sandbox(config, folder) as sandbox:
        env_file = folder / "sandbox.env"
        sandbox_env_file(sandbox.env, env_file)
        print(sandbox_banner(sandbox.env, env_file), flush=True)
        try:
            if stop is not None:
                stop()
            else:
                while True:
                    time.sleep(3600)
        except KeyboardInterrupt:
            pass
    print("sandbox stopped", flush=True)
    return 0
