from dagster import AssetSelection, Definitions, build_schedule_from_partitioned_job, define_asset_job

from orchestration.defs.shopify.assets import shopify_landing, shopify_raw_tables

shopify_daily_pull = define_asset_job(
    "shopify_daily_pull", selection=AssetSelection.assets(shopify_landing, shopify_raw_tables),
    description="Pull one business day from Shopify and load it into raw_shopify.")

# 02:00 in the entity's time zone, for the business day that just ended.
shopify_pull_schedule = build_schedule_from_partitioned_job(shopify_daily_pull, hour_of_day=2)

defs = Definitions(assets=[shopify_landing, shopify_raw_tables], jobs=[shopify_daily_pull],
                   schedules=[shopify_pull_schedule])
