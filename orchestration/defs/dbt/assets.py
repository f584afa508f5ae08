"""Every dbt model, seed and test as Dagster assets and asset checks, built with `dbt build`."""

import json
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.dbt.project import omnirecon_dbt

# dbt vars the reconciliation reads; kept here so a run's settings show in its logs.
DBT_VARS: dict[str, Any] = {"payout_delay_days": 1}


class OmnireconTranslator(DagsterDbtTranslator):
    """Asset keys follow the warehouse: raw_shopify/orders, staging/stg_shopify__orders, marts/orders."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["schema"]


translator = OmnireconTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=omnirecon_dbt.manifest_path, project=omnirecon_dbt, dagster_dbt_translator=translator,
            pool="warehouse_writer")
def omnirecon_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    context.log.info(f"dbt build with vars {DBT_VARS}")
    yield from dbt.cli(["build", "--vars", json.dumps(DBT_VARS)], context=context).stream()
