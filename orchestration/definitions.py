"""The omnirecon code location: each domain's definitions, plus the resources they share.

Credentials come from environment variables (EnvVar: a missing one fails naming the variable);
a channel's base URL is its vendor's real endpoint unless its *_BASE_URL variable says otherwise.
"""
import os

from dagster import Definitions, EnvVar
from dagster_dbt import DbtCliResource

from orchestration.defs.adyen import definitions as adyen
from orchestration.defs.bank import definitions as bank
from orchestration.defs.dbt import definitions as dbt
from orchestration.defs.dbt.project import DBT_EXECUTABLE, DBT_TARGET, omnirecon_dbt
from orchestration.defs.finance import definitions as finance
from orchestration.defs.marketplace import definitions as marketplace
from orchestration.defs.shopify import definitions as shopify
from orchestration.defs.stripe import definitions as stripe
from orchestration.defs.webhooks import definitions as webhooks
from orchestration.resources import ShopifyResource, StripeResource, WarehouseResource


def _base_url(variable: str, resource: type) -> dict:
    """The endpoint override, if the environment sets one; else the resource keeps the vendor's default."""
    return {"base_url": EnvVar(variable)} if os.environ.get(variable) else {}


defs = Definitions.merge(
    shopify.defs,
    stripe.defs,
    adyen.defs,
    marketplace.defs,
    bank.defs,
    webhooks.defs,
    dbt.defs,
    finance.defs,
    Definitions(resources={
        "dbt": DbtCliResource(project_dir=omnirecon_dbt, target=DBT_TARGET, dbt_executable=DBT_EXECUTABLE),
        "warehouse": WarehouseResource(target=DBT_TARGET),
        "shopify": ShopifyResource(shop_url=EnvVar("SHOPIFY_SHOP_URL"), access_token=EnvVar("SHOPIFY_ACCESS_TOKEN")),
        "stripe": StripeResource(api_key=EnvVar("STRIPE_API_KEY"), **_base_url("STRIPE_BASE_URL", StripeResource)),
    }),
)
