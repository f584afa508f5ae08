"""The omnirecon code location: each domain's definitions, plus the resources they share."""
from dagster import Definitions, EnvVar
from dagster_dbt import DbtCliResource

from orchestration.defs.adyen import definitions as adyen
from orchestration.defs.dbt import definitions as dbt
from orchestration.defs.dbt.project import DBT_EXECUTABLE, DBT_TARGET, omnirecon_dbt
from orchestration.defs.finance import definitions as finance
from orchestration.defs.shopify import definitions as shopify
from orchestration.resources import ShopifyResource, WarehouseResource

defs = Definitions.merge(
    shopify.defs,
    adyen.defs,
    dbt.defs,
    finance.defs,
    Definitions(resources={
        "dbt": DbtCliResource(project_dir=omnirecon_dbt, target=DBT_TARGET, dbt_executable=DBT_EXECUTABLE),
        "warehouse": WarehouseResource(target=DBT_TARGET),
        "shopify": ShopifyResource(shop_url=EnvVar("SHOPIFY_SHOP_URL"), access_token=EnvVar("SHOPIFY_ACCESS_TOKEN")),
    }),
)
