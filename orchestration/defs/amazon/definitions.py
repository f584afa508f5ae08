from dagster import Definitions

from connectors.amazon import daily_pull, raw_tables
from orchestration.source_definitions import (ApiSource, InboxSource, api_source_definitions,
                                              inbox_source_definitions)

# Settlement reports come two ways: from the Reports API with the daily pull, and as Seller Central
# downloads dropped in the inbox. Both go through one parser into raw_amazon.settlement_report_rows;
# the same report twice adds no row. The inbox only lands; the pull's raw load takes what it landed.
defs = Definitions.merge(
    api_source_definitions(ApiSource(
        name="amazon", raw=raw_tables, resource_key="amazon", pull=daily_pull.pull_business_day, minute_of_hour=20,
        also_loads=("amazon_settlements",),
        description="Amazon orders updated that day with their items, and the settlement reports Amazon created "
                    "that day, through the Selling Partner API.")),
    inbox_source_definitions(InboxSource(
        name="amazon_settlements", raw=raw_tables, group="amazon", loads_raw=False,
        description="Settlement reports (V2 flat file) downloaded from Seller Central and dropped in the inbox.")),
)
