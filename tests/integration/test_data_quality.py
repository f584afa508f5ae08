"""Great Expectations suites on the raw tables: they pass on what the sandbox serves, and a corrupted raw
row fails the right expectation, naming the row; the Dagster checks record it and failing_sources says
which source the dbt build must leave out; `make docs` writes both documentation sites."""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, Definitions
from great_expectations.execution_engine import pandas_execution_engine

from connectors.landing_zone import LandingZone
from connectors.raw_load import METADATA_COLUMNS, RAW_SOURCES, load_landed_files
from connectors.sandbox.simulator import SandboxConfig
from connectors.warehouse import connect
from orchestration.data_quality import dbt_exclude_args, failing_sources
from orchestration.data_quality.status import dbt_source_selectors, validated_through
from orchestration.data_quality.suites import SUITES
from orchestration.data_quality.validation import (LOADED_AT, RECORD_KEY, WHOLE_TABLE, TableValidation,
                                                   _great_expectations_failures, _hold_on_no_rows, new_context,
                                                   validate_source, validate_table)
from tests.sandbox_raw import load_sandbox_raw

CONFIG = SandboxConfig(seed=1, days=2, orders_per_day=20)


@pytest.fixture(scope="module")
def sandbox_raw(tmp_path_factory):
    """(world, DuckDB file with every source loaded, the raw home with its landing zone)."""
    home = tmp_path_factory.mktemp("raw")
    world, duckdb_file = load_sandbox_raw(CONFIG, home)
    return world, duckdb_file, home


@pytest.fixture
def warehouse_copy(sandbox_raw, tmp_path) -> Path:
    """A copy of the clean warehouse, free to corrupt."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(sandbox_raw[1], copy)
    return copy


def _all_results(warehouse, **kwargs) -> dict[str, dict[str, TableValidation]]:
    return {schema: validate_source(warehouse, schema, **kwargs) for schema in SUITES}


def _failures(results: dict[str, dict[str, TableValidation]]) -> str:
    return "\n\n".join(r.markdown() for tables in results.values() for r in tables.values() if not r.success)


def _shape(results: dict[str, dict[str, TableValidation]]) -> dict[tuple[str, str], tuple[int, int]]:
    return {(schema, table): (result.row_count, result.evaluated)
            for schema, tables in results.items() for table, result in tables.items()}


def test_every_raw_table_passes_its_suite_on_the_sandbox(sandbox_raw):
    with connect(str(sandbox_raw[1])) as warehouse:
        results = _all_results(warehouse)
    assert not _failures(results), _failures(results)
    # every raw table of every source has a suite, and the sandbox fills the ones that matter
    assert {(s, t) for s, tables in results.items() for t in tables} == {
        (m.SCHEMA, t) for m in RAW_SOURCES.values() for t in m.RAW_TABLES}
    assert results["raw_shopify"]["orders"].row_count > 0 and results["raw_wms"]["movements"].row_count > 0
    assert results["raw_shopify"]["orders"].evaluated > 20


def test_a_bogus_shopify_financial_status_fails_naming_the_order(warehouse_copy):
    with connect(str(warehouse_copy)) as warehouse:
        order_id = warehouse.fetchall("select min(id) from raw_shopify.orders")[0][0]
        warehouse.execute("update raw_shopify.orders set financial_status = 'bogus' where id = ?", [order_id])
        warehouse.execute("update raw_shopify.orders set total_price = '12,50' where id = ?", [order_id])
        result = validate_source(warehouse, "raw_shopify", ["orders"])["orders"]
    assert not result.success
    failed = {(f.expectation, f.column): f for f in result.failures}
    assert set(failed) == {("expect_column_values_to_be_in_set", "financial_status"),
                           ("expect_column_values_to_match_regex", "total_price")}
    status = failed["expect_column_values_to_be_in_set", "financial_status"]
    assert status.unexpected_count == 1 and status.rows == [(str(order_id), "bogus")]
    assert failed["expect_column_values_to_match_regex", "total_price"].rows == [(str(order_id), "12,50")]
    table = result.markdown()
    assert "financial_status" in table and f"| {order_id} | bogus |" in table


def test_the_gate_finds_a_bad_row_without_fingerprinting_the_batch(warehouse_copy, monkeypatch):
    # Fingerprinting (a hash of every cell, twice a validation) was half of a gate's time, for a label.
    def fingerprint(frame):
        raise AssertionError("Great Expectations fingerprinted a gate's batch")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", fingerprint)
    with connect(str(warehouse_copy)) as warehouse:
        order_id = warehouse.fetchall("select min(id) from raw_shopify.orders")[0][0]
        warehouse.execute("update raw_shopify.orders set financial_status = 'bogus' where id = ?", [order_id])
        result = validate_source(warehouse, "raw_shopify", ["orders"])["orders"]
    assert result.row_count > 1
    [failure] = result.failures
    assert (failure.column, failure.rows) == ("financial_status", [(str(order_id), "bogus")])


def test_wms_movements_fail_on_an_unknown_type_a_wrong_sign_and_a_wrongly_typed_quantity(warehouse_copy):
    with connect(str(warehouse_copy)) as warehouse:
        unknown, shipped = [row[0] for row in warehouse.fetchall(
            "select event_id from raw_wms.movements where type = 'ship' order by event_id limit 2")]
        warehouse.execute("update raw_wms.movements set type = 'teleport' where event_id = ?", [unknown])
        warehouse.execute("update raw_wms.movements set quantity = 5 where event_id = ?", [shipped])
        result = validate_source(warehouse, "raw_wms", ["movements"])["movements"]
        failed = {(f.expectation, f.column): f for f in result.failures}
        assert failed["expect_column_values_to_be_in_set", "type"].rows == [(unknown, "teleport")]
        sign = failed["expect_column_values_to_be_between", "quantity"]
        assert "ship" in sign.rule and sign.rows == [(shipped, 5)]
        assert len(result.failures) == 2, result.markdown()

        # The quantity's type drifts: a vendor change lands text where whole units belong.
        warehouse.execute("alter table raw_wms.movements alter column quantity type varchar")
        warehouse.execute("update raw_wms.movements set quantity = '3.5' where event_id = ?", [shipped])
        result = validate_source(warehouse, "raw_wms", ["movements"])["movements"]
    typed = {f.column: f for f in result.failures if f.expectation == "expect_column_values_to_be_in_type_list"}
    assert "quantity" in typed and (shipped, "3.5") in typed["quantity"].rows
    assert "expect_column_values_to_be_in_type_list" in result.markdown()


def test_the_gate_reports_what_a_checkpoint_run_of_the_whole_suite_reports(warehouse_copy, tmp_path):
    """The gate asks Great Expectations whether each expectation holds, then the failing ones for their rows:
    the same failures, in the same order, as one SUMMARY run through a checkpoint (the Data Docs' way)."""
    with connect(str(warehouse_copy)) as warehouse:
        shipped = [row[0] for row in warehouse.fetchall(
            "select event_id from raw_wms.movements where type = 'ship' order by event_id limit 3")]
        warehouse.execute("update raw_wms.movements set type = 'teleport' where event_id = ?", [shipped[0]])
        warehouse.execute("update raw_wms.movements set quantity = 5 where event_id = ?", [shipped[1]])
        warehouse.execute("alter table raw_wms.movements alter column quantity type varchar")
        warehouse.execute("update raw_wms.movements set quantity = '3.5' where event_id = ?", [shipped[2]])
        gate = validate_source(warehouse, "raw_wms", ["movements"])["movements"]
        checkpoint = validate_table(warehouse, SUITES["raw_wms"], "movements", docs=True,
                                    context=new_context(str(tmp_path / "docs")))
    assert gate.failures == checkpoint.failures and gate.markdown() == checkpoint.markdown()
    assert [f.rows for f in gate.failures if f.expectation == "expect_column_values_to_be_in_set"] == [
        [(shipped[0], "teleport")]]
    assert any(f.error for f in gate.failures) and any(f.rows for f in gate.failures)  # could not evaluate, and rows


def test_no_rows_hold_every_rule_about_rows_as_great_expectations_finds_them():
    """Why a load with nothing new need not ask Great Expectations: on no rows, every suite holds in GE, and
    the shortcut says so; with a column missing, the shortcut leaves it to GE, which fails it."""
    for schema, suite in SUITES.items():
        for table in suite.table_names():
            per_row = [e for e in suite.expectations(table) if e["type"] not in WHOLE_TABLE]
            columns = [*suite.raw.RAW_TABLES[table], *METADATA_COLUMNS, LOADED_AT]
            no_rows = pd.DataFrame(columns=[*columns, RECORD_KEY], dtype=object)
            assert _hold_on_no_rows(per_row, columns), f"{schema}.{table}"
            assert _great_expectations_failures(f"{schema}.{table}", per_row, no_rows) == [], f"{schema}.{table}"
    movements = [e for e in SUITES["raw_wms"].expectations("movements") if e["type"] not in WHOLE_TABLE]
    columns = [c for c in [*RAW_SOURCES["wms"].RAW_TABLES["movements"], *METADATA_COLUMNS] if c != "type"]
    assert not _hold_on_no_rows(movements, columns)
    failed = _great_expectations_failures("raw_wms.movements", movements,
                                          pd.DataFrame(columns=[*columns, RECORD_KEY], dtype=object))
    assert {(f.expectation, f.column) for f in failed} >= {("expect_table_columns_to_match_set", None),
                                                           ("expect_column_values_to_be_in_set", "type")}


def test_freshness_of_the_newest_record_is_configurable_per_source(sandbox_raw, monkeypatch):
    later = datetime.now(timezone.utc) + timedelta(days=45)  # nothing loaded for 45 days
    with connect(str(sandbox_raw[1])) as warehouse:
        stale = validate_source(warehouse, "raw_erp", ["items"], now=later)["items"]
        assert [f.expectation for f in stale.failures] == ["expect_column_max_to_be_between"]
        assert stale.failures[0].column == "_extracted_at"
        monkeypatch.setenv("OMNIRECON_DQ_MAX_AGE_DAYS_RAW_ERP", "60")
        assert validate_source(warehouse, "raw_erp", ["items"], now=later)["items"].success
        assert not validate_source(warehouse, "raw_bank", now=later)["statement_lines"].success


def test_dagster_checks_record_failures_and_failing_sources_names_the_schema(warehouse_copy, monkeypatch, tmp_path):
    from orchestration.definitions import defs as omnirecon
    from orchestration.defs.data_quality.definitions import defs as data_quality

    monkeypatch.setenv("OMNIRECON_DUCKDB_PATH", str(warehouse_copy))
    defs = Definitions.merge(omnirecon, data_quality)
    # the checks run in the loads of their raw tables, blocking what depends on them
    assert "raw_shopify_expectations" in defs.resolve_job_def("shopify_daily_pull").graph.node_dict
    assert "raw_adyen_expectations" in defs.resolve_job_def("adyen_settlements_load").graph.node_dict
    job = defs.resolve_job_def("raw_data_quality")
    instance = DagsterInstance.ephemeral()
    assert failing_sources(instance) == set()  # never checked: nothing known against any source

    assert job.execute_in_process(instance=instance).success
    assert failing_sources(instance) == set()
    # a pass records how far it validated: the next load's check starts after it
    with connect(str(warehouse_copy)) as warehouse:
        (newest_loaded,), = warehouse.fetchall("select max(_loaded_at) from raw_shopify.orders")
    assert validated_through(instance, "raw_shopify", "orders") == newest_loaded

    # A load that brings nothing new (an empty inbox): its check validates no rows, every expectation counted.
    monkeypatch.setenv("OMNIRECON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OMNIRECON_INBOX", str(tmp_path / "inbox"))
    whole = next(e.event_specific_data for e in job.execute_in_process(instance=instance).all_events
                 if e.event_type_value == "ASSET_CHECK_EVALUATION"
                 and e.event_specific_data.asset_key.to_user_string() == "raw_bank/statement_lines")
    load = defs.resolve_job_def("bank_statements_load").execute_in_process(instance=instance)
    gate = next(e.event_specific_data for e in load.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
                and e.event_specific_data.asset_key.to_user_string() == "raw_bank/statement_lines")
    assert gate.passed and gate.metadata["rows"].value == 0 < whole.metadata["rows"].value
    assert gate.metadata["expectations_evaluated"].value == whole.metadata["expectations_evaluated"].value
    assert "the 0 rows loaded after" in gate.metadata["result"].value
    assert gate.metadata["validated_through"].value == whole.metadata["validated_through"].value

    with connect(str(warehouse_copy)) as warehouse:
        order_id = warehouse.fetchall("select max(id) from raw_shopify.orders")[0][0]
        warehouse.execute("update raw_shopify.orders set financial_status = 'bogus' where id = ?", [order_id])
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    evaluations = {e.event_specific_data.asset_key.to_user_string(): e.event_specific_data
                   for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    failed = evaluations["raw_shopify/orders"]
    assert not failed.passed and failed.metadata["expectations_failed"].value == 1
    assert f"| {order_id} | bogus |" in failed.metadata["result"].value
    assert "expect_column_values_to_be_in_set(financial_status)" in failed.metadata["failed_expectations"].value
    assert evaluations["raw_wms/movements"].passed
    assert failing_sources(instance) == {"raw_shopify"}
    assert validated_through(instance, "raw_shopify", "orders") == newest_loaded  # a failure moves nothing on
    assert dbt_exclude_args(failing_sources(instance)) == ["--exclude", "source:shopify+"]
    assert dbt_exclude_args({"raw_wms", "raw_shopify"}) == ["--exclude", "source:shopify+ source:wms+"]
    assert dbt_exclude_args(set()) == []

    with connect(str(warehouse_copy)) as warehouse:  # mended: the next evaluation clears it
        warehouse.execute("update raw_shopify.orders set financial_status = 'paid' where id = ?", [order_id])
    assert job.execute_in_process(instance=instance).success
    assert failing_sources(instance) == set()


def test_docs_builder_writes_dbt_docs_and_data_docs(warehouse_copy, tmp_path, monkeypatch):
    from orchestration.data_quality import docs

    monkeypatch.delenv("OMNIRECON_TARGET", raising=False)
    assert docs.main(["--out", str(tmp_path / "docs"), "--duckdb-path", str(warehouse_copy)]) == 0
    dbt_index = tmp_path / "docs" / "dbt" / "index.html"
    ge_index = tmp_path / "docs" / "great_expectations" / "index.html"
    assert dbt_index.exists() and (tmp_path / "docs" / "dbt" / "catalog.json").exists()
    assert ge_index.exists() and "raw_shopify.orders" in ge_index.read_text()
    # dbt's sources are found by the schema they read
    assert dbt_source_selectors({"raw_shopify"}, tmp_path / "docs" / "dbt" / "manifest.json") == ["source:shopify+"]
    # without a warehouse, it says to run the demo first
    assert docs.main(["--out", str(tmp_path / "none"), "--duckdb-path", str(tmp_path / "missing.duckdb")]) == 1


def test_suites_give_the_same_results_on_postgresql(sandbox_raw, postgres_database, tmp_path):
    _, duckdb_file, home = sandbox_raw
    landing = LandingZone(home / "landing")
    with connect(postgres_database) as warehouse:
        for source in RAW_SOURCES:
            files = landing.files(source, suffix="")
            if files:
                load_landed_files(warehouse, files, source=source)
        postgres = _all_results(warehouse)
        assert not _failures(postgres), _failures(postgres)
        warehouse.execute("update raw_shopify.orders set financial_status = 'bogus' "
                          "where id = (select min(id) from raw_shopify.orders)")
        warehouse.commit()
        order_id = warehouse.fetchall("select min(id) from raw_shopify.orders")[0][0]
        bad = validate_source(warehouse, "raw_shopify", ["orders"])["orders"]
    with connect(str(duckdb_file)) as warehouse:
        duckdb = _all_results(warehouse)
    assert _shape(postgres) == _shape(duckdb)
    assert [(f.expectation, f.column, f.rows) for f in bad.failures] == [
        ("expect_column_values_to_be_in_set", "financial_status", [(str(order_id), "bogus")])]
