"""Great Expectations suites on every raw table, as blocking Dagster asset checks in front of staging.

One check, `great_expectations_suite`, on each raw table (raw_<source>/<table>), computed per raw
schema in one step (one warehouse connection; one Great Expectations context per process). The checks are
blocking: in a run that materializes a raw table, nothing downstream of it runs when its suite
fails. The dbt build runs apart, so it asks orchestration.data_quality.failing_sources(instance)
which raw schemas failed their latest check and leaves what depends on them out of the build.

In a run that loads a raw table, its check validates the rows loaded since the check last passed
(normally just this load: history passed already) and the table's newest record; `raw_data_quality`
runs every suite again on whole tables without loading. The failing expectation, its rule and up to
20 failing rows (by record key, with the unexpected value) are in each check's metadata.
"""
from dagster import (AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey,
                     AssetSelection, DagsterEventType, Definitions, MetadataValue, define_asset_job,
                     multi_asset_check)

from orchestration.data_quality.status import CHECK_NAME, VALIDATED_THROUGH, validated_through
from orchestration.data_quality.suites import SUITES, SourceSuite


def _metadata(result) -> dict:
    return {
        "rows": result.row_count,
        "expectations_evaluated": result.evaluated,
        "expectations_failed": len(result.failures),
        "failed_expectations": MetadataValue.text(
            ", ".join(f"{f.expectation}({f.column or ''})" for f in result.failures) or "none"),
        "result": MetadataValue.md(result.markdown()),
        VALIDATED_THROUGH: MetadataValue.text(result.loaded_through.isoformat() if result.loaded_through else ""),
    }


def _loaded_in_this_run(context: AssetCheckExecutionContext) -> set[AssetKey]:
    """The assets this run has materialized so far: one read of the run's event log, not one per table."""
    return {entry.dagster_event.asset_key for entry in context.instance.all_logs(
        context.run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)}


def source_checks(suite: SourceSuite):
    schema = suite.schema
    specs = [AssetCheckSpec(CHECK_NAME, asset=AssetKey([schema, table]), blocking=True,
                            description=f"Great Expectations suite {schema}.{table}: required fields, types, "
                                        "accepted values, value ranges and freshness of the newest record.")
             for table in suite.table_names()]

    @multi_asset_check(name=f"{schema}_expectations", specs=specs, can_subset=True,
                       required_resource_keys={"warehouse"},
                       pool="warehouse_writer",  # DuckDB: one process at a time on the warehouse file
                       description=f"Validates the raw tables of {schema} with their Great Expectations suites.")
    def checks(context: AssetCheckExecutionContext):
        selected = {key.asset_key.path[-1] for key in context.selected_asset_check_keys}
        tables = [table for table in suite.table_names() if table in selected]
        # Great Expectations takes seconds to import: only a check that runs pays for it, not loading the code location.
        from orchestration.data_quality.validation import validate_source

        # A load validates what it brought (and whatever has not passed since); any other run, every row.
        loaded = _loaded_in_this_run(context)
        loaded_after = {table: validated_through(context.instance, schema, table) for table in tables
                        if AssetKey([schema, table]) in loaded}
        with context.resources.warehouse.connect() as warehouse:
            results = validate_source(warehouse, schema, tables, loaded_after=loaded_after)
        for table, result in results.items():
            if not result.success:
                context.log.warning(f"{schema}.{table}: {len(result.failures)} expectations failed")
            yield AssetCheckResult(asset_key=AssetKey([schema, table]), check_name=CHECK_NAME, passed=result.success,
                                   severity=AssetCheckSeverity.ERROR, metadata=_metadata(result))

    return checks


raw_table_checks = [source_checks(suite) for suite in SUITES.values()]

raw_data_quality = define_asset_job(
    "raw_data_quality", selection=AssetSelection.checks(*raw_table_checks),
    description="Run the Great Expectations suite of every raw table (no load).")

defs = Definitions(asset_checks=raw_table_checks, jobs=[raw_data_quality])
