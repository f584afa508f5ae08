"""Webhook events: the receiver (`omnirecon webhooks serve`) stores each event once; a sensor loads them."""
import hashlib
import time

from dagster import (AssetExecutionContext, AssetKey, AssetSpec, DefaultSensorStatus, Definitions, MaterializeResult,
                     RunRequest, SensorEvaluationContext, SkipReason, define_asset_job, multi_asset, sensor)

from connectors.raw_load import load_landed_files
from connectors.webhooks import raw_tables
from connectors.webhooks.event_store import EventStore
from orchestration import local_paths
from orchestration.asset_groups import ingestion_group
from orchestration.resources import WarehouseResource

RAW_KEYS = [AssetKey([raw_tables.SCHEMA, "events"]), AssetKey([raw_tables.SCHEMA, "_quarantine"])]


def _store() -> EventStore:
    return EventStore(local_paths.landing_root())


@multi_asset(specs=[AssetSpec(key, group_name=ingestion_group("webhooks"), description="Shopify, Stripe and Adyen webhook events, one "
                              "row per event id however often it was delivered (bad bodies in _quarantine).")
                    for key in RAW_KEYS], pool="warehouse_writer")
def webhook_events(context: AssetExecutionContext, warehouse: WarehouseResource):
    store = _store()
    with warehouse.connect() as wh:
        # Only the day folders changed since the last load are listed: a load costs the events new since, not
        # every event ever stored.
        listed_at_ns = time.time_ns()
        folders = store.folders_changed_since(raw_tables.last_listing(wh))
        pending = store.pending(raw_tables.loaded_files(wh, folders), folders)
        report = load_landed_files(wh, pending, source="webhooks")
        raw_tables.record_listing(wh, listed_at_ns)
    context.log.info(f"loaded {report.files_loaded} stored events from {len(folders)} changed day folders, "
                     f"{report.quarantined} quarantined")
    yield MaterializeResult(asset_key=RAW_KEYS[0], metadata={"events_loaded": report.files_loaded,
                                                             "rows_inserted": report.rows_inserted.get("events", 0)})
    yield MaterializeResult(asset_key=RAW_KEYS[1], metadata={"quarantined": report.quarantined})


webhook_events_load = define_asset_job("webhook_events_load", selection=RAW_KEYS,
                                       description="Load the webhook events stored since the last load.")


@sensor(job=webhook_events_load, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description="Starts a load when the webhook receiver has stored new events.")
def webhook_events_stored(context: SensorEvaluationContext):
    stamp = _store().stamp()
    if not stamp:
        return SkipReason("no webhook events stored yet")
    return RunRequest(run_key=hashlib.sha256(stamp.encode()).hexdigest())


defs = Definitions(assets=[webhook_events], jobs=[webhook_events_load], sensors=[webhook_events_stored])
