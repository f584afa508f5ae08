from dagster import Definitions

from orchestration.defs.dbt.assets import omnirecon_dbt_models

defs = Definitions(assets=[omnirecon_dbt_models])
