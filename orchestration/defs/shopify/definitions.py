from connectors.shopify import daily_pull, raw_tables
from orchestration.source_definitions import ApiSource, api_source_definitions

defs = api_source_definitions(ApiSource(
    name="shopify", raw=raw_tables, resource_key="shopify", pull=daily_pull.pull_business_day,
    description="Orders, transactions, payouts and balance transactions of one business day, "
                "fetched from the Shopify Admin API and landed as immutable files."))
