"""Push the current available-to-sell to the channels that sell from it, only what changed since the last push.

Which ATS goes where is data (seeds/ats_channel_rules publish_to); the diff against what each channel last
accepted and the ledger of pushes are orchestration/ats_publication.py; the HTTP is each channel's publisher
in connectors/. This asset only connects them and reports what happened.
"""
from datetime import datetime, timezone

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from orchestration.ats_publication import (ats_overview, changes_to_push, current_positions, publication_summary,
                                          record_pushes)
from orchestration.resources import WarehouseResource
from orchestration.run_metadata import md_table

AVAILABLE_TO_SELL = AssetKey(["marts", "available_to_sell"])
AVAILABLE_TO_SELL_BY_CHANNEL = AssetKey(["marts", "available_to_sell_by_channel"])
# publish_to (seeds/ats_channel_rules) -> the resource whose publisher() talks to that API
PUBLISHER_RESOURCES = {"shopify_inventory_levels": "shopify", "amazon_listings": "amazon",
                       "marketplace_listings": "marketplace_listings"}


@asset(key=AssetKey(["inventory", "ats_publication"]), deps=[AVAILABLE_TO_SELL, AVAILABLE_TO_SELL_BY_CHANNEL],
       group_name="inventory", pool="warehouse_writer",  # it appends to outbound.ats_publications
       required_resource_keys={"warehouse", *PUBLISHER_RESOURCES.values()},
       description="The current ATS pushed to each channel's inventory API (Shopify inventory levels per location, "
                   "Amazon and marketplace listing quantities), only what changed since the channel last accepted "
                   "it; every push and the channel's answer are kept in outbound.ats_publications.")
def ats_publication(context: AssetExecutionContext) -> MaterializeResult:
    started = datetime.now(timezone.utc)
    warehouse: WarehouseResource = context.resources.warehouse
    with warehouse.connect() as wh:
        wanted = current_positions(wh)
        changes = changes_to_push(wh, wanted)
    unchanged = sum(len(p) for p in wanted.values()) - sum(len(c) for c in changes.values())
    results = {}
    # The channels are called with no warehouse connection open: DuckDB has one writer, and HTTP can be slow.
    for publish_to, channel_changes in changes.items():
        publisher = getattr(context.resources, PUBLISHER_RESOURCES[publish_to]).publisher()
        context.log.info(f"{publish_to}: pushing {len(channel_changes)} changed positions")
        results[publish_to] = publisher.push(channel_changes)
    with warehouse.connect() as wh:
        for publish_to, channel_results in results.items():
            record_pushes(wh, publish_to, channel_results, started)
        summary = publication_summary(wh, started)
        overview = ats_overview(wh)
    failures = [r for rs in results.values() for r in rs if r.status != "pushed"]
    for failure in failures[:20]:
        context.log.warning(f"{failure.change.channel_id} refused {failure.change.sku}: {failure.error}")
    pushed = [r for rs in results.values() for r in rs if r.status == "pushed"]
    return MaterializeResult(metadata={
        "pushed": len(pushed),
        "failed": len(failures),
        "unchanged": unchanged,
        "pushes_by_channel": md_table(["channel", "status", "pushes"], [list(row) for row in summary],
                                       "nothing changed since the last push"),
        "ats_by_channel": md_table(["channel", "SKUs", "sold out", "units offered", "oversold order lines"],
                                    [list(row) for row in overview], "no ATS yet"),
        "oversold_order_lines": sum(row[4] for row in overview),
        "changes": md_table(["channel", "sku", "location", "ATS", "result"],
                             [[r.change.channel_id, r.change.sku, r.change.location_id or "network",
                               r.change.quantity, r.status] for r in (pushed + failures)[:100]],
                             "nothing to push"),
    })
