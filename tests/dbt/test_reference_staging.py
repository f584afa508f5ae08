"""Staging of the reference and signal sources: the ERP, the bank and the webhooks.

The sandbox retailer is served and loaded as the demo does (tests/sandbox_raw.py), dbt builds the
ERP, bank and webhook staging models with their tests, and then each staging model holds exactly the
records the sandbox says its source serves (world.records: a record pulled again, a statement
delivered in both formats, a webhook delivered twice is one row), keyed uniquely; the malformed
statement lines are in the bank's quarantine; and PostgreSQL, loaded from the same landing files,
stages the same rows.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import duckdb
import psycopg2
import pytest

from connectors.landing_zone import LandingZone
from connectors.raw_load import load_landed_files
from connectors.sandbox.channels.bank import WIRE_CHARGE
from connectors.sandbox.simulator import SandboxConfig
from connectors.warehouse import connect
from tests.sandbox_raw import load_sandbox_raw, run_dbt

CONFIG = SandboxConfig(seed=5, days=4, orders_per_day=20, anomaly_rate=0.1, malformed_rate=0.1)
SELECT = ["build", "--select", "staging.erp", "staging.bank", "staging.webhooks"]

# staging model -> (key column, world.records source, stream)
MODELS = {
    "stg_erp__items": ("sku", "erp", "items"),
    "stg_erp__legal_entities": ("legal_entity_id", "erp", "legal_entities"),
    "stg_erp__locations": ("location_id", "erp", "locations"),
    "stg_erp__gl_accounts": ("gl_account_key", "erp", "gl_accounts"),
    "stg_bank__statement_lines": ("statement_line_id", "bank", "statement_lines"),
    "stg_bank__quarantine": ("quarantine_id", "bank", "_quarantine"),
    "stg_webhooks__events": ("webhook_event_id", "webhooks", "events"),
}
# landing source -> how its files are named there
LANDED = {"erp": ".json", "webhooks": ".json", "bank_statements": ""}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    world, duckdb_file = load_sandbox_raw(CONFIG, tmp_path_factory.mktemp("raw"))
    run_dbt(SELECT, duckdb_file, tmp_path_factory.mktemp("dbt_duckdb"))
    return world, duckdb_file


def _counts(fetch) -> dict[str, tuple[int, int]]:
    return {model: tuple(fetch(f"select count(*), count(distinct {key}) from staging.{model}")[0])
            for model, (key, _, _) in MODELS.items()}


def _duckdb(duckdb_file, sql: str) -> list[tuple]:
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_each_model_holds_every_record_its_source_serves_once(sandbox):
    world, duckdb_file = sandbox
    records = world.world.records
    counts = _counts(lambda sql: _duckdb(duckdb_file, sql))
    expected = {model: (records[source].get(stream, 0),) * 2 for model, (_, source, stream) in MODELS.items()}
    assert counts == expected
    assert records["bank"]["_quarantine"] > 0 and records["webhooks"]["events"] > 0


def test_reference_data_is_the_worlds(sandbox):
    world, duckdb_file = sandbox
    items = dict(_duckdb(duckdb_file, "select sku, unit_cost from staging.stg_erp__items"))
    assert items == {sku.sku: sku.unit_cost for sku in world.world.catalog}
    locations = _duckdb(duckdb_file, "select location_id, location_kind, time_zone, legal_entity_id "
                                     "from staging.stg_erp__locations order by location_id")
    assert locations == sorted((loc.code, loc.kind, loc.time_zone, loc.legal_entity_id)
                               for loc in world.world.locations)
    entities = _duckdb(duckdb_file, "select legal_entity_id, functional_currency, time_zone "
                                    "from staging.stg_erp__legal_entities")
    assert entities == [(e.legal_entity_id, e.functional_currency, e.time_zone) for e in world.world.legal_entities]


def test_bank_lines_are_signed_and_carry_the_payouts(sandbox):
    world, duckdb_file = sandbox
    lines = _duckdb(duckdb_file, "select customer_reference, amount, value_date, description, credit_debit "
                                 "from staging.stg_bank__statement_lines")
    assert all((amount > 0) == (mark.startswith("C")) for _, amount, _, _, mark in lines if amount != 0)
    by_reference = {(ref, value_date): (amount, text) for ref, amount, value_date, text, _ in lines}
    deposits = [d for d in world.world.deposits if d.value_date < world.world.end_date]
    assert deposits
    found = [d for d in deposits if (d.payout_id, d.value_date) in by_reference]
    # every deposit whose line was not rendered malformed is on the statement, signed and described
    assert len(found) >= len(deposits) - world.world.records["bank"]["_quarantine"]
    # a correspondent bank's charge comes out of a few transfers: the deposit_different anomaly
    charged = {e["reference_id"] for e in world.ground_truth["exceptions"] if e["reason_code"] == "deposit_different"}
    for deposit in found:
        amount, text = by_reference[(deposit.payout_id, deposit.value_date)]
        if deposit.payout_id in charged:
            assert amount == deposit.amount - WIRE_CHARGE and text.startswith(deposit.bank_reference)
        else:
            assert amount == deposit.amount and text == deposit.bank_reference


def test_webhook_events_keep_their_payload_and_topic(sandbox):
    _, duckdb_file = sandbox
    rows = _duckdb(duckdb_file, "select vendor, topic, resource_id, payload, received_at "
                                "from staging.stg_webhooks__events")
    assert {vendor for vendor, *_ in rows} >= {"shopify", "stripe"}
    assert all(topic and payload.startswith("{") and received_at for _, topic, _, payload, received_at in rows)
    assert all(resource_id for vendor, _, resource_id, _, _ in rows if vendor == "stripe")


def _normalised(rows):
    def cell(value):
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc)
        if isinstance(value, Decimal):
            return value.normalize()
        return value
    return sorted(tuple(cell(v) for v in row) for row in rows)


def test_postgres_stages_the_same_rows(sandbox, postgres_database, tmp_path):
    _, duckdb_file = sandbox
    landing = LandingZone(duckdb_file.parent / "landing")
    with connect(postgres_database) as warehouse:
        for source, suffix in LANDED.items():
            files = landing.files(source, suffix=suffix)
            assert files, source
            load_landed_files(warehouse, files, source=source)
    run_dbt(SELECT, None, tmp_path / "dbt_postgres", target="postgres")
    with psycopg2.connect(postgres_database) as pg, pg.cursor() as cur:
        def fetch(sql):
            cur.execute(sql)
            return cur.fetchall()
        assert _counts(fetch) == _counts(lambda sql: _duckdb(duckdb_file, sql))
        for model in ("stg_erp__items", "stg_erp__gl_accounts", "stg_bank__statement_lines"):
            sql = f"select * from staging.{model}"
            pg_rows = [row[:-2] if model == "stg_bank__statement_lines" else row[:-1] for row in fetch(sql)]
            duck_rows = [row[:-2] if model == "stg_bank__statement_lines" else row[:-1]
                         for row in _duckdb(duckdb_file, sql)]
            assert _normalised(pg_rows) == _normalised(duck_rows), model
