"""Which raw sources failed their latest data-quality check, and how dbt leaves out what depends on them.

    failing = failing_sources(context.instance)            # {"raw_shopify"}
    args = ["build", *dbt_exclude_args(failing)]           # [..., "--exclude", "source:shopify+"]

A raw schema is failing when the latest completed evaluation of the Great Expectations check of
any of its tables failed. A table whose check never ran is not failing (nothing is known against it).

A passing evaluation records how far it validated the table (VALIDATED_THROUGH, the newest `_loaded_at`
it covered): the next load's check validates only the rows loaded after it. A failing evaluation moves
nothing on, so rows that failed are validated again by every check until they are mended.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from dagster import AssetCheckKey, AssetKey, DagsterInstance
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from orchestration.data_quality.suites import SUITES

CHECK_NAME = "great_expectations_suite"
VALIDATED_THROUGH = "validated_through"  # check metadata: ISO timestamp, the newest _loaded_at validated
_COMPLETED = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}


def check_key(schema: str, table: str) -> AssetCheckKey:
    return AssetCheckKey(AssetKey([schema, table]), CHECK_NAME)


def failing_tables(instance: DagsterInstance) -> set[tuple[str, str]]:
    """(schema, table) of every raw table whose latest completed suite evaluation failed."""
    failing = set()
    for schema, suite in SUITES.items():
        for table in suite.table_names():
            latest = instance.event_log_storage.get_asset_check_execution_history(
                check_key(schema, table), limit=1, status=_COMPLETED)
            if latest and latest[0].status == AssetCheckExecutionRecordStatus.FAILED:
                failing.add((schema, table))
    return failing


def validated_through(instance: DagsterInstance, schema: str, table: str) -> datetime | None:
    """The newest `_loaded_at` the latest passing evaluation of the table's check validated (None: never passed,
    or passed before checks recorded it): rows loaded after it have not passed the suite yet."""
    latest = instance.event_log_storage.get_asset_check_execution_history(
        check_key(schema, table), limit=1, status={AssetCheckExecutionRecordStatus.SUCCEEDED})
    event = latest[0].event if latest else None
    evaluation = event.dagster_event.event_specific_data if event and event.dagster_event else None
    value = (getattr(evaluation, "metadata", None) or {}).get(VALIDATED_THROUGH)
    return datetime.fromisoformat(value.value) if value is not None and value.value else None


def failing_sources(instance: DagsterInstance) -> set[str]:
    """The raw schemas (e.g. "raw_shopify") whose latest check evaluation failed on any table."""
    return {schema for schema, _ in failing_tables(instance)}


def dbt_source_selectors(schemas: Iterable[str], manifest: dict | str | Path) -> list[str]:
    """dbt selectors of everything built from the raw schemas: "source:<source name>+" for every dbt
    source reading one of them (dbt names a source by its name, not its schema)."""
    if not isinstance(manifest, dict):
        manifest = json.loads(Path(manifest).read_text())
    wanted = set(schemas)
    names = {source["source_name"] for source in manifest.get("sources", {}).values() if source["schema"] in wanted}
    return [f"source:{name}+" for name in sorted(names)]


def dbt_exclude_args(schemas: Iterable[str], manifest: dict | str | Path | None = None) -> list[str]:
    """`--exclude "source:<name>+ ..."` for the failing raw schemas (nothing when none fail).
    Without a manifest, the source name is the schema without "raw_" (the project's convention)."""
    schemas = sorted(set(schemas))
    if manifest is None:
        selectors = [f"source:{schema.removeprefix('raw_')}+" for schema in schemas]
    else:
        selectors = dbt_source_selectors(schemas, manifest)
    # one value, space-separated (dbt's union): dagster-dbt reads one value per --exclude
    return ["--exclude", " ".join(selectors)] if selectors else []
