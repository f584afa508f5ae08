"""Dagster resources: the warehouse the raw loads write to, and one connection per channel API.

Each channel resource holds the channel's base URL (the vendor's real endpoint unless the
environment names another, as the sandbox does) and its credentials, which definitions.py takes
from environment variables (EnvVar), so they never sit in code and never show in the UI.
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


class StripeResource(ConfigurableResource):
    """Stripe's REST API with a secret or restricted key (read access to balance, payouts, charges)."""

    api_key: str
    base_url: str = "https://api.stripe.com"

    def client(self):
        from connectors.stripe.client import StripeClient

        return StripeClient(self.base_url, self.api_key)
