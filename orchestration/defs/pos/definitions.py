from dagster import Definitions

from connectors.square import daily_pull, raw_tables
from orchestration.source_definitions import (ApiSource, InboxSource, api_source_definitions,
                                              inbox_source_definitions)

# The stores' POS: tickets, tenders and refunds through Square's API, each store's business day in its
# own time zone; the end-of-day Z report per store arrives as a file and lands in raw_square as well.
defs = Definitions.merge(
    api_source_definitions(ApiSource(
        name="square", raw=raw_tables, resource_key="square", pull=daily_pull.pull_business_day, hour_of_day=4,
        also_loads=("pos_z_reports",),
        description="Store tickets (orders with lines, tenders and returns), payments and refunds of each store's "
                    "business day, from the POS API.")),
    inbox_source_definitions(InboxSource(
        name="pos_z_reports", raw=raw_tables, group="square", loads_raw=False,
        description="Per-store end-of-day Z reports (register totals by tender) dropped in the inbox.")),
)
