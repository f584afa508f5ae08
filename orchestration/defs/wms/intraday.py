"""Today's WMS movements so far, for the ATS cycle: a store sale or a warehouse movement must reach the
channels' ATS within minutes, not with tomorrow's daily pull.

The daily pull (`wms_daily_pull`) owns the raw_wms tables and closes each business day; this asset pulls the
current business day up to now into the same landing partition and loads it. Loads are idempotent (landed
files by content hash, movements by event id), so the daily pull of the same day later adds only what came
after the last cycle.
"""
from datetime import datetime
from zoneinfo import ZoneInfo

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from connectors.landing_zone import LandingZone
from connectors.raw_load import load_landed_files
from connectors.shopify.extract import CursorStore
from connectors.wms import daily_pull
from orchestration import local_paths
from orchestration.asset_groups import ingestion_group
from orchestration.partitions import ENTITY_TIME_ZONE


@asset(key=AssetKey(["landing", "wms_today"]), group_name=ingestion_group("wms"), required_resource_keys={"wms", "warehouse"},
       pool="warehouse_writer",
       description="The WMS movement events of the current business day so far, landed and loaded into raw_wms.")
def wms_movements_today(context: AssetExecutionContext) -> MaterializeResult:
    today = datetime.now(ZoneInfo(ENTITY_TIME_ZONE)).date()
    landing = LandingZone(local_paths.landing_root())
    report = daily_pull.pull_business_day(context.resources.wms.client(), landing,
                                          CursorStore(local_paths.cursor_path("wms")), day=today,
                                          time_zone=ENTITY_TIME_ZONE, log=context.log.info)
    with context.resources.warehouse.connect() as wh:
        loaded = load_landed_files(wh, landing.files("wms", partition=today.isoformat(), suffix=""), source="wms")
    context.log.info(f"{today}: {loaded.files_loaded} new files, {loaded.rows_inserted.get('movements', 0)} new movements")
    return MaterializeResult(metadata={"business_date": today.isoformat(),
                                       "movements_so_far": report.records["movements"],
                                       "new_movements": loaded.rows_inserted.get("movements", 0)})
