"""Shopify: pull one business day into the landing zone, then load it into raw_shopify tables."""

from datetime import date

from dagster import (AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, AssetKey,
                     AssetSpec, MaterializeResult, MetadataValue, asset, multi_asset)

from connectors.landing_zone import LandingZone
from connectors.raw_load import load_landed_files
from connectors.shopify.daily_pull import pull_business_day
from connectors.shopify.extract import CursorStore
from connectors.shopify.raw_tables import RAW_TABLES, SCHEMA
from orchestration import local_paths
from orchestration.partitions import ENTITY_TIME_ZONE, business_days
from orchestration.resources import ShopifyResource, WarehouseResource

SHOPIFY_LANDING = AssetKey(["landing", "shopify"])
RAW_KEYS = {table: AssetKey([SCHEMA, table]) for table in [*RAW_TABLES, "_quarantine"]}


@asset(key=SHOPIFY_LANDING, partitions_def=business_days, group_name="shopify",
       description="Orders, transactions, payouts and balance transactions of one business day, "
                   "fetched from the Shopify Admin API and landed as immutable files.")
def shopify_landing(context: AssetExecutionContext, shopify: ShopifyResource) -> MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    report = pull_business_day(shopify.client(), LandingZone(local_paths.landing_root()),
                               CursorStore(local_paths.cursor_path()), day=day, time_zone=ENTITY_TIME_ZONE,
                               log=context.log.info)
    return MaterializeResult(metadata={
        **{f"records_{stream}": n for stream, n in report.records.items()},
        "pages": report.pages,
        "landed_files": MetadataValue.path(str(local_paths.landing_root() / "shopify")),
    })


@multi_asset(
    specs=[AssetSpec(key, deps=[SHOPIFY_LANDING], group_name="shopify", partitions_def=business_days,
                     description=f"Raw Shopify {table} as landed, one row per distinct version.")
           for table, key in RAW_KEYS.items()],
    check_specs=[AssetCheckSpec("no_quarantined_records", asset=RAW_KEYS["_quarantine"],
                                description="Records that failed validation are quarantined, not dropped.")],
    partitions_def=business_days,
    pool="warehouse_writer",
)
def shopify_raw_tables(context: AssetExecutionContext, warehouse: WarehouseResource):
    files = LandingZone(local_paths.landing_root()).files("shopify", partition=context.partition_key)
    with warehouse.connect() as wh:
        report = load_landed_files(wh, files, source="shopify")
    context.log.info(f"loaded {report.files_loaded} files ({report.files_skipped} already loaded), "
                     f"{report.records_seen} records, {report.quarantined} quarantined")
    for table, key in RAW_KEYS.items():
        yield MaterializeResult(asset_key=key, metadata={"rows_inserted": report.rows_inserted.get(table, 0)})
    yield AssetCheckResult(
        check_name="no_quarantined_records", asset_key=RAW_KEYS["_quarantine"], passed=report.quarantined == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={"quarantined": report.quarantined,
                  "reasons": MetadataValue.md("\n".join(f"- {r}" for r in report.quarantine_reasons[:50]) or "none")})
