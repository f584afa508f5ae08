from connectors.stripe import daily_pull, raw_tables
from orchestration.source_definitions import ApiSource, api_source_definitions

defs = api_source_definitions(ApiSource(
    name="stripe", raw=raw_tables, resource_key="stripe", pull=daily_pull.pull_business_day, hour_of_day=2,
    minute_of_hour=10,
    description="Stripe payouts arriving that day with their balance transactions, and the charges, refunds and "
                "disputes created that day, landed as immutable pages."))
