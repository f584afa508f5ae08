from dagster import AssetSelection, DefaultScheduleStatus, Definitions, ScheduleDefinition, define_asset_job
from dagster_dbt import build_dbt_asset_selection

from orchestration.defs.dbt.assets import omnirecon_dbt_models
from orchestration.defs.inventory.publication import ats_publication
from orchestration.defs.wms.intraday import wms_movements_today

# The dbt models between the WMS's raw tables and the ATS marts, and the rules they read.
INVENTORY_MODELS = ("inventory_locations ats_channel_rules ats_channel_locations safety_stock inventory_reservations "
                    "path:models/staging/wms path:models/intermediate/inventory path:models/marts/inventory")

ats_cycle = define_asset_job(
    "ats_cycle",
    selection=AssetSelection.assets(wms_movements_today, ats_publication)
    | build_dbt_asset_selection([omnirecon_dbt_models], dbt_select=INVENTORY_MODELS),
    description="Today's WMS movements, the inventory models rebuilt, and the ATS changes pushed to the channels: "
                "a store sale or a warehouse movement reaches the channels within one cycle.")

# Running from the first deployment on: the channels' ATS must not wait for someone to switch the cycle on.
ats_cycle_schedule = ScheduleDefinition(job=ats_cycle, cron_schedule="*/15 * * * *",
                                        execution_timezone="America/New_York",
                                        default_status=DefaultScheduleStatus.RUNNING)

defs = Definitions(assets=[ats_publication], jobs=[ats_cycle], schedules=[ats_cycle_schedule])
