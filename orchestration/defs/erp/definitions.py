from connectors.erp import daily_pull, raw_tables
from orchestration.source_definitions import ApiSource, api_source_definitions

defs = api_source_definitions(ApiSource(
    name="erp", raw=raw_tables, resource_key="erp", pull=daily_pull.pull_business_day, hour_of_day=1,
    description="The ERP's reference data as of that day: item master with unit costs and tax codes, legal "
                "entities, stores and locations with time zones, and the chart of accounts."))
