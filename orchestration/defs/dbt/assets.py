"""Every dbt model, seed and test as Dagster assets and asset checks, built with `dbt build`.

The models are tables rebuilt in full from all the raw data at every build, and no model reads the day it is
built for (no dbt var): the marts of a build depend on the raw tables alone. So closing day D after D+1 was
loaded, closing D..D+13 in one run, or closing each of those days in turn ends with the same marts to the
cent, and posting batch ids (derived from what they summarise) stay the same. One close run is one
`dbt build`, whether it closes a day or a fortnight.

They are not a partitioned asset, on purpose. Partitions describe which business days a build closes, and
that is the close's own asset, finance/daily_close (partitioned by business day, single-run backfill policy:
orchestration/defs/finance/daily_close.py), which makes reconciliation_build a partitioned job whose range
backfill is one run. Partitioning these assets as well would make every build name its days: in Dagster 1.13
a run without a partition cannot materialize a partitioned asset whose partitioned parents (the raw tables of
the API pulls) have materializations ("Cannot access partition_key for a non-partitioned run", raised while
reading the parents' data versions), and the intraday `ats_cycle` rebuilds the inventory models every 15
minutes for no business day at all: today has no partition until it ended.
"""

from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from connectors.raw_load import ensure_every_raw_table
from orchestration.asset_groups import ingestion_group
from orchestration.data_quality import dbt_exclude_args, failing_sources
from orchestration.defs.dbt.artifacts import build_folder, prune_build_artifacts
from orchestration.defs.dbt.partial_parse import keep_warehouse_parse, start_from_warehouse_parse
from orchestration.defs.dbt.project import omnirecon_dbt
from orchestration.partitions import business_days_of_run
from orchestration.resources import WarehouseResource

# The ERP journals and what they are summed from
POSTING_MODELS = {"int_finance__settlement_postings", "int_finance__sales_postings", "int_finance__cogs_postings",
                  "posting_batches", "journal_lines", "journal_line_sources"}


class OmnireconTranslator(DagsterDbtTranslator):
    """Asset keys follow the warehouse: raw_shopify/orders, staging/stg_shopify__orders, marts/orders."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """The UI's groups follow the project's folders: staging/<source> joins that channel's ingestion,
        intermediate and marts are canonical, finance or inventory, the journals are posting, seeds are
        configuration."""
        if dbt_resource_props["resource_type"] == "seed":
            return "configuration"
        if dbt_resource_props["name"] in POSTING_MODELS:
            return "posting"
        layer, folder = (dbt_resource_props["fqn"][1:3] + [None, None])[:2]
        if layer == "staging":
            return ingestion_group(folder)
        return folder if folder in ("finance", "inventory") else "canonical"


translator = OmnireconTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=omnirecon_dbt.manifest_path, project=omnirecon_dbt, dagster_dbt_translator=translator,
            pool="warehouse_writer")
def omnirecon_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    closing = business_days_of_run(context.run.tags)
    context.log.info("building every model from all raw data" + (f", closing {closing}" if closing else ""))
    with warehouse.connect() as wh:  # closed before dbt opens the warehouse (DuckDB has one writer)
        ensure_every_raw_table(wh)
    # A source whose raw data failed its Great Expectations suite holds back everything built from it.
    failing = failing_sources(context.instance)
    if failing:
        context.log.warning(f"raw data checks failed for {sorted(failing)}: leaving out what is built from them")
    # Unit tests check the models' logic on fixed inputs, not the day's data: CI runs them (tests/dbt), a
    # production build would only spend its time on them (16 nodes, ~3 s a close).
    args = ["build", "--exclude-resource-type", "unit_test", *dbt_exclude_args(failing, omnirecon_dbt.manifest_path)]
    context.log.info(f"dbt {' '.join(args)}")
    build_target = build_folder(omnirecon_dbt.manifest_path.parent, context.op_execution_context.op.name,
                                context.run.run_id)
    if not start_from_warehouse_parse(build_target):
        context.log.info("dbt starts from the project's parse: this warehouse keeps none of its own")
    yield from dbt.cli(args, context=context, target_path=build_target).stream()
    keep_warehouse_parse(build_target)
    pruned = prune_build_artifacts(omnirecon_dbt.manifest_path.parent)
    if pruned:
        context.log.info(f"removed the dbt artifacts of {len(pruned)} builds older than a day")
