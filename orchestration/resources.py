"""Dagster resources: the warehouse the raw loads write to, and one connection per channel API.

Credentials come from environment variables through EnvVar in definitions.py, so they never sit
in code and never show in the UI. A channel's base URL is the vendor's real endpoint unless its
*_BASE_URL variable names another (the sandbox does), read when the client is made, like the
credentials, so one loaded code location follows the environment it runs in.
"""

import os
from urllib.parse import quote

from dagster import ConfigurableResource

from connectors.warehouse import connect
from orchestration import local_paths


class WarehouseResource(ConfigurableResource):
    """The warehouse raw loads write to and dbt builds in: a DuckDB file or PostgreSQL.

    PostgreSQL settings are the same OMNIRECON_PG_* variables the dbt profile reads, so raw
    tables and marts always land in the same database.
    """

    target: str = "duckdb"
    duckdb_path: str = ""  # empty: OMNIRECON_DUCKDB_PATH, else the local default, read when connecting

    def dsn(self) -> str:
        env = os.environ
        password = env.get("OMNIRECON_PG_PASSWORD", "")
        auth = env.get("OMNIRECON_PG_USER", "postgres") + (f":{quote(password)}" if password else "")
        return (f"postgresql://{auth}@{env.get('OMNIRECON_PG_HOST', '127.0.0.1')}:"
                f"{env.get('OMNIRECON_PG_PORT', '5432')}/{env.get('OMNIRECON_PG_DBNAME', 'omnirecon')}")

    def connect(self):
        if self.target == "postgres":
            return connect(self.dsn())
        return connect(self.duckdb_path or str(local_paths.duckdb_path()))


class ShopifyResource(ConfigurableResource):
    """Shopify Admin API credentials; both come from the environment (EnvVar), never from code."""

    shop_url: str
    access_token: str
    api_version: str = "2026-07"

    def client(self):
        from connectors.shopify.client import ShopifyAdminClient

        return ShopifyAdminClient(self.shop_url, self.access_token, api_version=self.api_version)

    def publisher(self):
        from connectors.shopify.inventory_levels import ShopifyInventoryLevelsPublisher

        return ShopifyInventoryLevelsPublisher(self.shop_url, self.access_token, api_version=self.api_version)


def _endpoint(configured: str, variable: str, vendor_default: str) -> str:
    return configured or os.environ.get(variable) or vendor_default


class AmazonSellingPartnerResource(ConfigurableResource):
    """Selling Partner API through a Login with Amazon app: client id and secret, and the seller's refresh token."""

    client_id: str
    client_secret: str
    refresh_token: str
    base_url: str = ""  # AMAZON_SP_API_BASE_URL, else North America's endpoint
    token_url: str = ""  # AMAZON_LWA_TOKEN_URL, else Login with Amazon's
    marketplace_id: str = "ATVPDKIKX0DER"  # Amazon.com
    seller_id: str = ""  # the merchant token the Listings Items API addresses (AMAZON_SELLER_ID)

    def client(self):
        from connectors.amazon.client import SellingPartnerClient

        return SellingPartnerClient(
            self.client_id, self.client_secret, self.refresh_token, marketplace_id=self.marketplace_id,
            base_url=_endpoint(self.base_url, "AMAZON_SP_API_BASE_URL", "https://sellingpartnerapi-na.amazon.com"),
            token_url=_endpoint(self.token_url, "AMAZON_LWA_TOKEN_URL", "https://api.amazon.com/auth/o2/token"))

    def publisher(self):
        from connectors.amazon.listings import AmazonListingsPublisher

        return AmazonListingsPublisher(self.client(), seller_id=self.seller_id or os.environ.get("AMAZON_SELLER_ID", ""))


class WmsResource(ConfigurableResource):
    """The 3PL's warehouse API (movement events and inventory levels), with an API key."""

    api_key: str
    base_url: str = ""  # WMS_BASE_URL, else ShipBob's

    def client(self):
        from connectors.wms.client import WmsClient

        return WmsClient(_endpoint(self.base_url, "WMS_BASE_URL", "https://api.shipbob.com/2.0"), self.api_key)


class ErpResource(ConfigurableResource):
    """The ERP's REST API (reference data now, journal postings later). An ERP is self-hosted: no default URL."""

    api_token: str
    base_url: str

    def client(self):
        from connectors.erp.client import ErpClient

        return ErpClient(self.base_url, self.api_token)


class SquareResource(ConfigurableResource):
    """The stores' POS (Square's API): an access token with orders, payments and merchant-profile read scopes."""

    access_token: str
    base_url: str = ""  # SQUARE_BASE_URL, else Square's

    def client(self):
        from connectors.square.client import SquareClient

        return SquareClient(_endpoint(self.base_url, "SQUARE_BASE_URL", "https://connect.squareup.com"),
                            self.access_token)


class StripeResource(ConfigurableResource):
    """Stripe's REST API with a secret or restricted key (read access to balance, payouts, charges)."""

    api_key: str
    base_url: str = ""  # STRIPE_BASE_URL, else Stripe's

    def client(self):
        from connectors.stripe.client import StripeClient

        return StripeClient(_endpoint(self.base_url, "STRIPE_BASE_URL", "https://api.stripe.com"), self.api_key)


class MarketplaceListingsResource(ConfigurableResource):
    """The regional marketplace's listing API, where the retailer sets each SKU's sellable quantity."""

    api_token: str
    base_url: str = ""  # MARKETPLACE_API_BASE_URL, else Bazaarly's

    def publisher(self):
        from connectors.marketplace.listings import MarketplaceListingsPublisher

        return MarketplaceListingsPublisher(
            _endpoint(self.base_url, "MARKETPLACE_API_BASE_URL", "https://api.bazaarly.example"), self.api_token)
