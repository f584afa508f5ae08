"""Adyen settlement details reports: dropped in the inbox, landed once, loaded into raw_adyen."""
import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

from dagster import (AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, RunRequest,
                     SensorEvaluationContext, SkipReason, define_asset_job, multi_asset, sensor)

from connectors.adyen.settlement_details import SCHEMA, parse_settlement_details
from connectors.inbox import DROPPED_FILES, Inbox
from connectors.landing_zone import LandingZone
from connectors.raw_load import load_landed_files
from orchestration import local_paths
from orchestration.partitions import ENTITY_TIME_ZONE
from orchestration.resources import WarehouseResource

SOURCE = "adyen_settlements"
RAW_KEYS = [AssetKey([SCHEMA, "settlement_details"]), AssetKey([SCHEMA, "_quarantine"])]


def _inbox() -> Inbox:
    return Inbox(local_paths.inbox_root(), LandingZone(local_paths.landing_root()))


@multi_asset(specs=[AssetSpec(key, group_name="adyen", description="Adyen settlement details rows as reported "
                              "(bad rows in _quarantine), from the files dropped in the inbox.") for key in RAW_KEYS],
             pool="warehouse_writer")
def adyen_settlement_details(context: AssetExecutionContext, warehouse: WarehouseResource):
    inbox = _inbox()
    today = datetime.now(ZoneInfo(ENTITY_TIME_ZONE)).date().isoformat()
    outcomes = [inbox.take(SOURCE, path, parse_settlement_details, today) for path in inbox.pending(SOURCE)]
    for outcome in outcomes:
        context.log.info(f"{outcome.dropped.name}: {outcome.status}" + (f" ({outcome.reason})" if outcome.reason else ""))
    with warehouse.connect() as wh:
        report = load_landed_files(wh, inbox.landing.files(SOURCE, DROPPED_FILES, suffix=".csv"), source=SOURCE)
    files = "\n".join(f"| {o.dropped.name} | {o.status} | {o.rows} | {o.rows_quarantined} | {o.reason or ''} |"
                      for o in outcomes)
    yield MaterializeResult(asset_key=RAW_KEYS[0], metadata={
        "files": MetadataValue.md("| file | outcome | rows | bad rows | reason |\n|---|---|---|---|---|\n" + files)
        if files else MetadataValue.md("no new files"),
        "rows_inserted": report.rows_inserted.get("settlement_details", 0),
    })
    yield MaterializeResult(asset_key=RAW_KEYS[1], metadata={"quarantined": report.quarantined})


adyen_settlements_load = define_asset_job("adyen_settlements_load", selection=RAW_KEYS,
                                          description="Land new Adyen settlement files from the inbox and load them.")


@sensor(job=adyen_settlements_load, minimum_interval_seconds=60,
        description="Starts a load when new files are in the inbox's adyen_settlements folder.")
def adyen_settlements_inbox(context: SensorEvaluationContext):
    pending = _inbox().pending(SOURCE)
    if not pending:
        return SkipReason(f"nothing in {local_paths.inbox_root() / SOURCE}")
    # One run per set of contents: a tick that sees the same files again asks for nothing new.
    contents = sorted(hashlib.sha256(path.read_bytes()).hexdigest() for path in pending)
    return RunRequest(run_key=hashlib.sha256("".join(contents).encode()).hexdigest())
