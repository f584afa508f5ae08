"""The omnirecon code location: each domain's definitions, plus the resources they share.

Credentials come from environment variables (EnvVar: a missing one fails naming the variable);
a channel's base URL is its vendor's real endpoint unless its *_BASE_URL variable says otherwise
(see orchestration/resources.py).
"""
from dagster import Definitions, EnvVar
from dagster_dbt import DbtCliResource

from orchestration.defs.adyen import definitions as adyen
from orchestration.defs.amazon import definitions as amazon
from orchestration.defs.automation import definitions as automation
from orchestration.defs.bank import definitions as bank
from orchestration.defs.data_quality import definitions as data_quality
from orchestration.defs.dbt import definitions as dbt
from orchestration.defs.dbt.project import DBT_EXECUTABLE, DBT_TARGET, omnirecon_dbt
from orchestration.defs.erp import definitions as erp
from orchestration.defs.finance import definitions as finance
from orchestration.defs.inventory import definitions as inventory
from orchestration.defs.marketplace import definitions as marketplace
from orchestration.defs.pos import definitions as pos
from orchestration.defs.shopify import definitions as shopify
from orchestration.defs.stripe import definitions as stripe
from orchestration.defs.webhooks import definitions as webhooks
from orchestration.defs.wms import definitions as wms
from orchestration.resources import (AmazonSellingPartnerResource, ErpResource, MarketplaceListingsResource,
                                     ShopifyResource, SquareResource, StripeResource, WarehouseResource, WmsResource)


# The finance marts' freshness policy goes on the dbt asset's specs once every domain is merged.
defs = automation.with_finance_mart_freshness(Definitions.merge(
    shopify.defs,
    stripe.defs,
    amazon.defs,
    pos.defs,
    wms.defs,
    erp.defs,
    adyen.defs,
    marketplace.defs,
    bank.defs,
    webhooks.defs,
    data_quality.defs,
    dbt.defs,
    finance.defs,
    inventory.defs,
    automation.defs,
    Definitions(resources={
        "dbt": DbtCliResource(project_dir=omnirecon_dbt, target=DBT_TARGET, dbt_executable=DBT_EXECUTABLE),
        "warehouse": WarehouseResource(target=DBT_TARGET),
        "shopify": ShopifyResource(shop_url=EnvVar("SHOPIFY_SHOP_URL"), access_token=EnvVar("SHOPIFY_ACCESS_TOKEN")),
        "amazon": AmazonSellingPartnerResource(
            client_id=EnvVar("AMAZON_LWA_CLIENT_ID"), client_secret=EnvVar("AMAZON_LWA_CLIENT_SECRET"),
            refresh_token=EnvVar("AMAZON_LWA_REFRESH_TOKEN")),
        "stripe": StripeResource(api_key=EnvVar("STRIPE_API_KEY")),
        "square": SquareResource(access_token=EnvVar("SQUARE_ACCESS_TOKEN")),
        "wms": WmsResource(api_key=EnvVar("WMS_API_KEY")),
        "marketplace_listings": MarketplaceListingsResource(api_token=EnvVar("MARKETPLACE_API_TOKEN")),
        "erp": ErpResource(api_token=EnvVar("ERP_API_TOKEN"), base_url=EnvVar("ERP_BASE_URL")),
    }),
))
