from dagster import Definitions

from connectors.wms import daily_pull, raw_tables
from orchestration.defs.wms.intraday import wms_movements_today
from orchestration.source_definitions import (ApiSource, InboxSource, api_source_definitions,
                                              inbox_source_definitions)

# The 3PL reports movements and levels through its API and drops an end-of-day snapshot file per
# location; raw_wms holds both, loaded by the daily pull.
defs = Definitions.merge(
    api_source_definitions(ApiSource(
        name="wms", raw=raw_tables, resource_key="wms", pull=daily_pull.pull_business_day, minute_of_hour=30,
        also_loads=("wms_snapshots",),
        description="The 3PL's inventory movement events of that day (receipts, picks, shipments, transfers, "
                    "returns, damage) and its current inventory levels.")),
    inbox_source_definitions(InboxSource(
        name="wms_snapshots", raw=raw_tables, group="wms", loads_raw=False,
        description="End-of-day inventory snapshot per location, dropped by the 3PL in the inbox.")),
    Definitions(assets=[wms_movements_today]),
)
