"""Every dbt model, seed and test as Dagster assets and asset checks, built with `dbt build`."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from connectors.raw_load import ensure_every_raw_table
from orchestration.data_quality import dbt_exclude_args, failing_sources
from orchestration.defs.dbt.project import omnirecon_dbt
from orchestration.resources import WarehouseResource

class OmnireconTranslator(DagsterDbtTranslator):
    """Asset keys follow the warehouse: raw_shopify/orders, staging/stg_shopify__orders, marts/orders."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["schema"]


translator = OmnireconTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=omnirecon_dbt.manifest_path, project=omnirecon_dbt, dagster_dbt_translator=translator,
            pool="warehouse_writer")
def omnirecon_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    with warehouse.connect() as wh:  # closed before dbt opens the warehouse (DuckDB has one writer)
        ensure_every_raw_table(wh)
    # A source whose raw data failed its Great Expectations suite holds back everything built from it.
    failing = failing_sources(context.instance)
    if failing:
        context.log.warning(f"raw data checks failed for {sorted(failing)}: leaving out what is built from them")
    args = ["build", *dbt_exclude_args(failing, omnirecon_dbt.manifest_path)]
    context.log.info(f"dbt {' '.join(args)}")
    yield from dbt.cli(args, context=context).stream()
