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
