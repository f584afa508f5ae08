"""How a channel's intake becomes Dagster definitions, the same way for every channel.

Two kinds of intake exist:
- an API source is pulled on a schedule, one business day (partition) at a time: a landing asset
  calls the connector's pull, which lands pages as immutable files and resumes from its cursor,
  then a raw multi-asset loads that partition's landed files into the source's raw_<channel> tables;
- an inbox source is a folder that vendors or users drop files into: a sensor notices new files,
  and one asset lands each new file once (by content hash) and loads it into its raw table, bad
  rows to the schema's _quarantine.

A raw schema may be fed by both (Amazon settlement reports come from the Reports API and from
Seller Central downloads): the API source then lists the inbox among its `also_loads`, and the
inbox source only lands, so that one asset owns each raw table.
"""
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from types import ModuleType
from zoneinfo import ZoneInfo

from dagster import (AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, AssetKey,
                     AssetSelection, AssetSpec, DefaultScheduleStatus, DefaultSensorStatus, Definitions,
                     MaterializeResult, MetadataValue, RunRequest, SensorEvaluationContext, SkipReason, asset,
                     build_schedule_from_partitioned_job, define_asset_job, multi_asset, sensor)

from connectors.inbox import DROPPED_FILES, Inbox
from connectors.landing_zone import LandingZone
from connectors.raw_load import LoadReport, load_landed_files
from connectors.shopify.extract import CursorStore
from orchestration import local_paths
from orchestration.asset_groups import ingestion_group
from orchestration.partitions import ENTITY_TIME_ZONE, business_days

# pull(client, landing, cursors, *, day, time_zone, log) -> a report with .records {stream: count} and .pages
Pull = Callable[..., object]


@dataclass(frozen=True)
class ApiSource:
    name: str  # landing source and job/asset prefix, e.g. "amazon"
    raw: ModuleType  # SCHEMA and RAW_TABLES (connectors/<channel>/raw_tables.py)
    resource_key: str  # the Dagster resource whose .client() talks to the channel
    pull: Pull
    description: str
    hour_of_day: int = 2  # the daily pull's hour, in the entity's time zone, for the day that ended
    minute_of_hour: int = 0
    # inbox sources whose landed files this schema's load takes too, whatever day they were dropped
    also_loads: tuple[str, ...] = ()


@dataclass(frozen=True)
class InboxSource:
    name: str  # inbox folder and landing source, e.g. "pos_z_reports"
    raw: object  # SCHEMA, FILE_TABLE and parse_file(path) (a connectors module, or one built per mapping)
    group: str
    description: str
    loads_raw: bool = True  # False when an API source's raw asset loads what this inbox lands
    # several folders feeding one raw table, each with its own parser (one per marketplace mapping)
    folders: dict[str, object] | None = None

    def parsers(self) -> dict[str, object]:
        return self.folders or {self.name: self.raw}


def _landing() -> LandingZone:
    return LandingZone(local_paths.landing_root())


def _load_metadata(report: LoadReport) -> dict:
    return {"files_loaded": report.files_loaded, "files_already_loaded": report.files_skipped,
            "records_seen": report.records_seen, "quarantined": report.quarantined}


def _quarantine_check(schema: str, report: LoadReport) -> AssetCheckResult:
    return AssetCheckResult(
        check_name="no_quarantined_records", asset_key=AssetKey([schema, "_quarantine"]),
        passed=report.quarantined == 0, severity=AssetCheckSeverity.WARN,
        metadata={"quarantined": report.quarantined,
                  "reasons": MetadataValue.md("\n".join(f"- {r}" for r in report.quarantine_reasons[:50]) or "none")})


def _quarantine_check_spec(schema: str) -> AssetCheckSpec:
    return AssetCheckSpec("no_quarantined_records", asset=AssetKey([schema, "_quarantine"]),
                          description="Records that failed validation are quarantined with a reason, not dropped.")


def api_source_definitions(source: ApiSource) -> Definitions:
    schema = source.raw.SCHEMA
    landing_key = AssetKey(["landing", source.name])
    raw_keys = {table: AssetKey([schema, table]) for table in [*source.raw.RAW_TABLES, "_quarantine"]}

    @asset(key=landing_key, partitions_def=business_days, group_name=ingestion_group(source.name),
           required_resource_keys={source.resource_key}, description=source.description)
    def landing_asset(context: AssetExecutionContext) -> MaterializeResult:
        client = getattr(context.resources, source.resource_key).client()
        report = source.pull(client, _landing(), CursorStore(local_paths.cursor_path(source.name)),
                             day=date.fromisoformat(context.partition_key), time_zone=ENTITY_TIME_ZONE,
                             log=context.log.info)
        return MaterializeResult(metadata={
            **{f"records_{stream}": n for stream, n in report.records.items()}, "pages": report.pages,
            "landed_files": MetadataValue.path(str(local_paths.landing_root() / source.name))})

    @multi_asset(
        name=f"{source.name}_raw_tables",
        specs=[AssetSpec(key, deps=[landing_key], group_name=ingestion_group(source.name), partitions_def=business_days,
                         description=f"{schema}.{table} as landed, one row per distinct version.")
               for table, key in raw_keys.items()],
        check_specs=[_quarantine_check_spec(schema)], partitions_def=business_days, pool="warehouse_writer",
        required_resource_keys={"warehouse"})
    def raw_asset(context: AssetExecutionContext):
        landing = _landing()
        # API pages (.json) and the report files some pulls download (Amazon's .txt settlement reports)
        files = landing.files(source.name, partition=context.partition_key, suffix="")
        for inbox_source in source.also_loads:  # files already loaded are skipped by their content hash
            files += landing.files(inbox_source, DROPPED_FILES, suffix="")
        with context.resources.warehouse.connect() as wh:
            report = load_landed_files(wh, files, source=source.name)
        context.log.info(f"loaded {report.files_loaded} files ({report.files_skipped} already loaded), "
                         f"{report.records_seen} records, {report.quarantined} quarantined")
        for table, key in raw_keys.items():
            yield MaterializeResult(asset_key=key, metadata={"rows_inserted": report.rows_inserted.get(table, 0),
                                                             **(_load_metadata(report) if table == "_quarantine" else {})})
        yield _quarantine_check(schema, report)

    job = define_asset_job(f"{source.name}_daily_pull", selection=AssetSelection.assets(landing_asset, raw_asset),
                           description=f"Pull one business day from {source.name} and load it into {schema}.")
    # Running from the first deployment on: the night's pulls and the close after them (defs/automation/schedules.py)
    # must not wait for someone to switch them on in the UI. A retailer without this channel stops it there once.
    schedule = build_schedule_from_partitioned_job(
        job, hour_of_day=source.hour_of_day, minute_of_hour=source.minute_of_hour,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"Every night at {source.hour_of_day:02d}:{source.minute_of_hour:02d} {ENTITY_TIME_ZONE}: pulls "
                    f"the business day that ended (yesterday's partition) from {source.name}.")
    return Definitions(assets=[landing_asset, raw_asset], jobs=[job], schedules=[schedule])


def inbox_source_definitions(source: InboxSource) -> Definitions:
    schema = source.raw.SCHEMA
    if source.loads_raw:
        keys = [AssetKey([schema, source.raw.FILE_TABLE]), AssetKey([schema, "_quarantine"])]
        description = f"{source.description} Rows as reported, bad rows in {schema}._quarantine."
    else:
        keys = [AssetKey(["landing", source.name])]
        description = f"{source.description} Landed here; {schema} loads them with its daily pull."

    @multi_asset(name=f"{source.name}_files", specs=[AssetSpec(key, group_name=ingestion_group(source.group), description=description)
                                                      for key in keys],
                 pool="warehouse_writer", required_resource_keys={"warehouse"})
    def files_asset(context: AssetExecutionContext):
        inbox = Inbox(local_paths.inbox_root(), _landing())
        today = datetime.now(ZoneInfo(ENTITY_TIME_ZONE)).date().isoformat()
        outcomes = [inbox.take(folder, path, raw.parse_file, today)
                    for folder, raw in source.parsers().items() for path in inbox.pending(folder)]
        for outcome in outcomes:
            context.log.info(f"{outcome.dropped.name}: {outcome.status}" + (f" ({outcome.reason})" if outcome.reason else ""))
        table = "\n".join(f"| {o.dropped.name} | {o.status} | {o.rows} | {o.rows_quarantined} | {o.reason or ''} |"
                          for o in outcomes)
        files = MetadataValue.md("| file | outcome | rows | bad rows | reason |\n|---|---|---|---|---|\n" + table
                                 if table else "no new files")
        if not source.loads_raw:
            yield MaterializeResult(asset_key=keys[0], metadata={"files": files})
            return
        inserted, reports = 0, []
        with context.resources.warehouse.connect() as wh:
            for folder in source.parsers():
                reports.append(load_landed_files(wh, inbox.landing.files(folder, DROPPED_FILES, suffix=""), source=folder))
        yield MaterializeResult(asset_key=keys[0], metadata={
            "files": files, "rows_inserted": sum(r.rows_inserted.get(source.raw.FILE_TABLE, 0) for r in reports)})
        yield MaterializeResult(asset_key=keys[1], metadata={
            key: sum(_load_metadata(r)[key] for r in reports) for key in _load_metadata(LoadReport())})

    job = define_asset_job(f"{source.name}_load", selection=keys,
                           description=f"Land new files from the inbox's {source.name} folder"
                                       + (" and load them." if source.loads_raw else "."))

    @sensor(name=f"{source.name}_inbox", job=job, minimum_interval_seconds=60,
            default_status=DefaultSensorStatus.RUNNING,  # a dropped file loads without anyone switching it on
            description=f"Starts {source.name}_load when new files are in the inbox's {source.name} folder.")
    def inbox_sensor(context: SensorEvaluationContext):
        inbox = Inbox(local_paths.inbox_root(), _landing())
        pending = [path for folder in source.parsers() for path in inbox.pending(folder)]
        if not pending:
            return SkipReason(f"nothing new in {local_paths.inbox_root()}/{{{','.join(source.parsers())}}}")
        # One run per set of contents: a tick that sees the same files again asks for nothing new.
        contents = sorted(hashlib.sha256(path.read_bytes()).hexdigest() for path in pending)
        return RunRequest(run_key=hashlib.sha256("".join(contents).encode()).hexdigest())

    return Definitions(assets=[files_asset], jobs=[job], sensors=[inbox_sensor])
