"""A load's data-quality gate validates the rows that load brought, not the history: the per-row rules
on the rows loaded after the last passing check, the table's freshness over the whole table in SQL.
On DuckDB and PostgreSQL."""
from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone

import pytest

from connectors.landing_zone import LandingZone
from connectors.raw_load import load_landed_files
from connectors.sandbox.simulator import SandboxConfig, simulate
from connectors.warehouse import connect
from orchestration.data_quality import validation
from orchestration.data_quality.suites import SUITES
from orchestration.data_quality.validation import validate_source

STORE = simulate(SandboxConfig(seed=5, start_date=date(2026, 11, 2), days=2, orders_per_day=15)).store


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path):
    target = str(tmp_path / "wh.duckdb") if request.param == "duckdb" else request.getfixturevalue("postgres_database")
    with connect(target) as wh:
        yield wh


def _orders(warehouse, **kwargs):
    return validate_source(warehouse, "raw_shopify", ["orders"], **kwargs)["orders"]


def test_the_gate_of_a_load_validates_its_rows_and_the_newest_record_of_the_table(warehouse, tmp_path):
    landing = LandingZone(tmp_path / "landing")
    half = len(STORE.orders) // 2
    bogus = {**copy.deepcopy(STORE.orders[-1]), "financial_status": "bogus"}
    history = landing.land("shopify", "orders", "2026-11-02", STORE.orders[:half])
    pull = landing.land("shopify", "orders", "2026-11-03", STORE.orders[half:-1] + [bogus])

    load_landed_files(warehouse, [history])
    whole = _orders(warehouse)
    assert whole.success and whole.loaded_after is None and whole.row_count == half
    (newest_loaded,), = warehouse.fetchall("select max(_loaded_at) from raw_shopify.orders")
    assert whole.loaded_through == newest_loaded

    inserted = load_landed_files(warehouse, [pull]).rows_inserted["orders"]
    gate = _orders(warehouse, loaded_after={"orders": whole.loaded_through})
    assert gate.row_count == inserted == len(STORE.orders) - half
    assert gate.evaluated == whole.evaluated  # every expectation still runs, freshness included
    assert [(f.expectation, f.column, f.rows) for f in gate.failures] == [
        ("expect_column_values_to_be_in_set", "financial_status", [(str(bogus["id"]), "bogus")])]
    assert gate.loaded_through > whole.loaded_through
    assert f"the {inserted} rows loaded after" in gate.markdown()

    # Freshness is about the table, not the load: the newest record of all history, answered in SQL.
    later = datetime.now(timezone.utc) + timedelta(days=45)
    stale = _orders(warehouse, now=later, loaded_after={"orders": gate.loaded_through})
    assert stale.row_count == 0
    assert [(f.expectation, f.column) for f in stale.failures] == [("expect_column_max_to_be_between", "_extracted_at")]
    (newest_extracted,), = warehouse.fetchall("select max(_extracted_at) from raw_shopify.orders")
    assert stale.failures[0].observed == newest_extracted
    assert _orders(warehouse, now=later).failures[-1].rule == stale.failures[0].rule  # the same rule, whole or not

    # Nothing loaded since: nothing to read, the table's rules still hold; a full re-check still finds the bad row.
    quiet = _orders(warehouse, loaded_after={"orders": gate.loaded_through})
    assert quiet.success and quiet.row_count == 0 and quiet.loaded_through == gate.loaded_through
    assert [f.rows for f in _orders(warehouse).failures] == [[(str(bogus["id"]), "bogus")]]


def test_a_load_with_nothing_new_counts_every_expectation_and_still_fails_a_stale_table(warehouse, tmp_path,
                                                                                       monkeypatch):
    landing = LandingZone(tmp_path / "landing")
    load_landed_files(warehouse, [landing.land("shopify", "orders", "2026-11-02", STORE.orders)])
    whole = _orders(warehouse)
    assert whole.success and whole.row_count == len(STORE.orders)
    later = datetime.now(timezone.utc) + timedelta(days=45)

    with monkeypatch.context() as patched:
        def no_great_expectations():
            raise AssertionError("Great Expectations was asked to validate no rows")

        # No rows to read: the rules about each row hold on none, so Great Expectations is not asked.
        patched.setattr(validation, "_gate_batches", no_great_expectations)
        quiet = _orders(warehouse, loaded_after={"orders": whole.loaded_through})
        assert quiet.success and quiet.row_count == 0 and quiet.evaluated == whole.evaluated
        assert quiet.markdown().startswith(f"All {whole.evaluated} expectations of raw_shopify.orders hold on "
                                           "the 0 rows")
        stale = _orders(warehouse, now=later, loaded_after={"orders": whole.loaded_through})
        assert stale.evaluated == whole.evaluated and stale.loaded_through == whole.loaded_through
        assert [(f.expectation, f.column) for f in stale.failures] == [
            ("expect_column_max_to_be_between", "_extracted_at")]
        assert stale.markdown().startswith(f"1 of {whole.evaluated} expectations of raw_shopify.orders failed")

        # A table nothing was ever loaded into: no freshness to ask of it, every other expectation counted.
        payouts = validate_source(warehouse, "raw_shopify", ["payouts"])["payouts"]
        suite = SUITES["raw_shopify"]
        assert payouts.success and payouts.row_count == 0
        assert payouts.evaluated == len(suite.expectations("payouts", empty=True)) == len(
            suite.expectations("payouts")) - 1

    # A column dropped since the last pass fails the load that brings nothing new, as it fails the whole table.
    warehouse.execute("alter table raw_shopify.orders drop column total_tax")
    drifted = _orders(warehouse, loaded_after={"orders": whole.loaded_through})
    assert drifted.row_count == 0
    assert [(f.expectation, f.column, f.error) for f in drifted.failures] == [
        (f.expectation, f.column, f.error) for f in _orders(warehouse).failures]
    assert {(f.expectation, f.column) for f in drifted.failures} >= {
        ("expect_table_columns_to_match_set", None), ("expect_column_values_to_be_in_type_list", "total_tax")}
