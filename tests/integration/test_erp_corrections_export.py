"""The ERP export through Dagster against a DuckDB warehouse file and the fake ERP on loopback (real HTTP):
an exported batch is never rewritten; a change after export is posted as a reversal and a correction that
net to the new content, once; a batch exported before the ledger existed is taken from its file."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from dagster import materialize

from connectors.erp.client import ErpClient
from connectors.erp.journal_files import LAYOUTS, journal_file, normalised_batch
from connectors.erp.journal_push import push_batch, push_batches
from connectors.sandbox.channels import erp
from connectors.sandbox.erp_api import FakeErpAPI
from connectors.sandbox.world import World
from connectors.warehouse import connect
from orchestration import local_paths
from orchestration.defs.finance.erp_export import (ensure_tables, erp_posting_export, ready_batches,
                                                   record_postings)
from orchestration.resources import ErpResource, WarehouseResource

TOKEN = "erp_tok_corrections_0a1b2c3d4e5f"
READ_ONLY = "erp_tok_read_only_9f8e7d6c5b4a"
A, B, C = "SJ-aaaaaaaaaaaaaaaa", "SJ-bbbbbbbbbbbbbbbb", "SJ-cccccccccccccccc"


@pytest.fixture
def api():
    world = World(seed=3, start_date=date(2026, 11, 2), days=1)
    with FakeErpAPI(erp.simulate(world), TOKEN, read_only_tokens=(READ_ONLY,)) as running:
        yield running


@pytest.fixture
def warehouse_path(omnirecon_home):
    """Where the warehouse is: a DuckDB file (connectors.warehouse.connect takes its path)."""
    return str(omnirecon_home / "warehouse.duckdb")


@pytest.fixture(params=["duckdb", "postgres"])
def any_warehouse(request, omnirecon_home):
    """The same warehouse as a DuckDB file or a fresh PostgreSQL database (its DSN)."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_database")
    return str(omnirecon_home / "warehouse.duckdb")


def _settlement(batch_id: str, bank: str, fees: str, *, status: str = "ready", payout_date: str = "2026-11-02"):
    """A payout's batch: bank and fees debited, the clearing account credited with their sum."""
    gross = Decimal(bank) + Decimal(fees)
    return {"batch_id": batch_id, "status": status, "posting_date": payout_date, "payout_id": f"po_{batch_id[-4:]}",
            "lines": [("bank", "1010", Decimal(bank), Decimal(0)), ("clearing", "1150", Decimal(0), gross),
                      ("fees", "6150", Decimal(fees), Decimal(0))]}


def _set_marts(path, *batches: dict) -> None:
    """marts.posting_batches and marts.journal_lines as dbt builds them, functional currency included (a USD
    entity: rate 1)."""
    with connect(str(path)) as wh:
        wh.begin()
        wh.execute("create schema if not exists marts")
        wh.execute("drop table if exists marts.posting_batches")
        wh.execute("drop table if exists marts.journal_lines")
        wh.execute("""create table marts.posting_batches (
            batch_id varchar, legal_entity_id varchar, journal_type varchar, provider varchar, payout_id varchar,
            location_id varchar, posting_date date, currency varchar, total_debit decimal(18, 2),
            total_credit decimal(18, 2), is_balanced boolean, line_count integer, status varchar,
            blocked_reason varchar, channel_id varchar, functional_currency varchar)""")
        wh.execute("""create table marts.journal_lines (
            journal_line_id varchar, batch_id varchar, line_number integer, posting_role varchar,
            account_code varchar, description varchar, debit_amount decimal(18, 4),
            credit_amount decimal(18, 4), currency varchar, functional_currency varchar, fx_rate decimal(18, 8),
            functional_debit_amount decimal(18, 4), functional_credit_amount decimal(18, 4))""")
        for batch in batches:
            total = sum(line[2] for line in batch["lines"])
            wh.execute("insert into marts.posting_batches values (?, 'US01', 'settlement', 'shopify', ?, null, ?, "
                       "'USD', ?, ?, true, ?, ?, ?, null, 'USD')",
                       [batch["batch_id"], batch["payout_id"], batch["posting_date"], total, total,
                        len(batch["lines"]), batch["status"],
                        "awaiting_deposit" if batch["status"] == "blocked" else None])
            for number, (role, account, debit, credit) in enumerate(batch["lines"], 1):
                wh.execute("insert into marts.journal_lines values (?, ?, ?, ?, ?, ?, ?, ?, 'USD', 'USD', 1, ?, ?)",
                           [f"{batch['batch_id']}-{number}", batch["batch_id"], number, role, account,
                            f"{role} of payout {batch['payout_id']}", debit, credit, debit, credit])
        wh.commit()


def _run(api, path, token: str = TOKEN, *, raise_on_error: bool = True):
    postgres = path.startswith("postgresql://")  # the OMNIRECON_PG_* variables name its database
    result = materialize([erp_posting_export], raise_on_error=raise_on_error, resources={
        "warehouse": WarehouseResource(target="postgres") if postgres else WarehouseResource(duckdb_path=path),
        "erp": ErpResource(api_token=token, base_url=api.base_url + "/api/v1")})
    if not result.success:
        return result, {}
    [event] = result.get_asset_materialization_events()
    return result, {key: value.value for key, value in event.materialization.metadata.items()}


def _posted_keys(api) -> list[str]:
    return [r.idempotency_key for r in api.request_log if r.method == "POST" and r.status == 201]


def _ledger(path) -> dict[str, tuple]:
    with connect(str(path)) as wh:
        rows = wh.fetchall("select batch_id, original_batch_id, amends_batch_id, kind, correction_number, content, "
                           "content_sha256 from outbound.erp_exported_batches")
    return {row[0]: row[1:] for row in rows}


def _erp_holds(api, contents: list[dict]) -> None:
    """The ERP holds exactly these contents: posting each again is a duplicate (other content would be a 409)."""
    client = ErpClient(api.base_url + "/api/v1", TOKEN, backoff_seconds=0.001, max_retries=1, timeout=5)
    for content in contents:
        assert push_batch(client, content).status == "duplicate", content["batch_id"]


def _net(contents) -> dict[str, Decimal]:
    net: Counter = Counter()
    for content in contents:
        for line in content["lines"]:
            net[line["account_code"]] += Decimal(line["debit_amount"]) - Decimal(line["credit_amount"])
    return {account: amount for account, amount in net.items() if amount}


def _files() -> dict[str, int]:
    return {str(p.relative_to(local_paths.export_root())): p.stat().st_mtime_ns
            for p in (local_paths.export_root() / "erp").glob("*/*")}


def test_a_change_after_export_is_reversed_and_rebooked_once(api, any_warehouse):
    warehouse_path = any_warehouse
    _set_marts(warehouse_path, _settlement(A, "121.76", "3.64"), _settlement(B, "50.00", "1.50"),
               _settlement(C, "10.00", "0.30", status="blocked"))
    _, first = _run(api, warehouse_path)
    assert sorted(_posted_keys(api)) == [A, B]
    assert (first["batches_written"], first["batches_corrected"], first["batches_reversed"]) == (2, 0, 0)
    original = json.loads((local_paths.export_root() / "erp" / "2026-11-02" / f"{A}.json").read_text())
    assert {kind for _, _, kind, *_ in _ledger(warehouse_path).values()} == {"original"}

    # A's fees move after its export
    _set_marts(warehouse_path, _settlement(A, "120.00", "5.40"), _settlement(B, "50.00", "1.50"),
               _settlement(C, "10.00", "0.30", status="blocked"))
    before = _files()
    _, second = _run(api, warehouse_path)
    assert _posted_keys(api)[2:] == [f"{A}-R1", f"{A}-C1"]  # exactly one reversal and one correction, in order
    assert (second["batches_corrected"], second["batches_reversed"], second["batches_posted_to_erp"]) == (1, 1, 2)
    assert f"{A}-R1" in second["corrections"] and "reversal" in second["corrections"]
    after = _files()
    assert {name: mtime for name, mtime in after.items() if name in before} == before  # nothing rewritten
    assert sorted(set(after) - set(before)) == sorted(
        f"erp/2026-11-02/{name}" for batch_id in (f"{A}-C1", f"{A}-R1")
        for name in (f"{batch_id}.json", f"{batch_id}.csv", f"{batch_id}.netsuite.csv",
                     f"{batch_id}.bc-journal-lines.json"))
    ledger = _ledger(warehouse_path)
    reversal, correction = (json.loads(ledger[f"{A}-{kind}1"][4]) for kind in "RC")
    assert ledger[f"{A}-R1"][:4] == (A, A, "reversal", 1) and ledger[f"{A}-C1"][:4] == (A, A, "correction", 1)
    current = journal_file("generic_json", correction)  # the files hold the ledger's content
    assert (local_paths.export_root() / "erp" / "2026-11-02" / current[0]).read_text() == current[1]
    _erp_holds(api, [original, reversal, correction])
    assert _net([original, reversal, correction]) == {"1010": Decimal("120.00"), "1150": Decimal("-125.40"),
                                                       "6150": Decimal("5.40")}

    # nothing changed: nothing posted, nothing written, nothing recorded
    posts = len(api.request_log)
    _, third = _run(api, warehouse_path)
    assert len(api.request_log) == posts and _files() == after and _ledger(warehouse_path) == ledger
    assert (third["batches_written"], third["batches_corrected"], third["batches_posted_to_erp"]) == (0, 0, 0)
    assert third["batches_already_exported"] == 2

    # a second change reverses the correction in force, not the original
    _set_marts(warehouse_path, _settlement(A, "119.00", "6.40"), _settlement(B, "50.00", "1.50"),
               _settlement(C, "10.00", "0.30", status="blocked"))
    _, fourth = _run(api, warehouse_path)
    assert _posted_keys(api)[4:] == [f"{A}-R2", f"{A}-C2"]
    ledger = _ledger(warehouse_path)
    second_reversal, second_correction = (json.loads(ledger[f"{A}-{kind}2"][4]) for kind in "RC")
    assert ledger[f"{A}-R2"][1] == f"{A}-C1" and second_reversal["reverses_batch_id"] == f"{A}-C1"
    assert [(l["debit_amount"], l["credit_amount"]) for l in second_reversal["lines"]] == [
        (l["credit_amount"], l["debit_amount"]) for l in correction["lines"]]
    chain = [original, reversal, correction, second_reversal, second_correction]
    _erp_holds(api, chain)
    assert _net(chain) == {"1010": Decimal("119.00"), "1150": Decimal("-125.40"), "6150": Decimal("6.40")}
    assert fourth["batches_corrected"] == fourth["batches_reversed"] == 1


def test_held_and_vanished_batches_and_a_crash_before_the_push(api, warehouse_path):
    _set_marts(warehouse_path, _settlement(A, "121.76", "3.64"), _settlement(B, "50.00", "1.50"))
    _run(api, warehouse_path)
    # B is held back now and A has left the marts
    _set_marts(warehouse_path, _settlement(B, "49.00", "2.50", status="blocked"))
    # a token that cannot post: the run fails after recording the ledger and writing the files
    result, _ = _run(api, warehouse_path, READ_ONLY, raise_on_error=False)
    assert not result.success and _posted_keys(api) == [A, B]
    assert set(_ledger(warehouse_path)) == {A, B, f"{A}-R1"}
    assert (local_paths.export_root() / "erp" / "2026-11-02" / f"{A}-R1.json").exists()
    # the next run heals: it posts the reversal it recorded, and nothing for the held batch
    _, healed = _run(api, warehouse_path)
    assert _posted_keys(api)[2:] == [f"{A}-R1"]
    assert (healed["batches_held_after_export"], healed["batches_reversed"], healed["batches_corrected"]) == (1, 0, 0)
    assert set(_ledger(warehouse_path)) == {A, B, f"{A}-R1"}
    _, again = _run(api, warehouse_path)
    assert _posted_keys(api)[3:] == [] and again["batches_held_after_export"] == 1


def test_a_batch_exported_before_the_ledger_is_taken_from_its_file(api, warehouse_path):
    # what the export wrote before the ledger existed (and before the marts had functional amounts): the
    # files, and the ERP's confirmation in outbound.erp_postings
    _set_marts(warehouse_path, _settlement(A, "121.76", "3.64"), _settlement(B, "50.00", "1.50"))
    with connect(str(warehouse_path)) as wh:
        old = [_without_functional(batch) for batch in ready_batches(wh)]
        ensure_tables(wh)
        client = ErpClient(api.base_url + "/api/v1", TOKEN, backoff_seconds=0.001, max_retries=1, timeout=5)
        record_postings(wh, push_batches(client, old), datetime.now(timezone.utc))
    folder = local_paths.export_root() / "erp" / "2026-11-02"
    folder.mkdir(parents=True)
    for batch in old:
        for layout in LAYOUTS:
            name, text = journal_file(layout, batch)
            (folder / name).write_bytes(text.encode())

    # A moved since, B only gained the functional columns: A is corrected against its file, B is left alone
    _set_marts(warehouse_path, _settlement(A, "120.00", "5.40"), _settlement(B, "50.00", "1.50"))
    before = _files()
    _, run = _run(api, warehouse_path)
    assert (run["batches_exported_before_ledger"], run["batches_reversed"], run["batches_corrected"]) == (2, 1, 1)
    assert [r.idempotency_key for r in api.request_log if r.method == "POST"] == [A, B, f"{A}-R1", f"{A}-C1"]
    assert {name: mtime for name, mtime in _files().items() if name in before} == before
    ledger = _ledger(warehouse_path)
    assert ledger[A][2] == "original" and json.loads(ledger[A][4]) == normalised_batch(old[0])
    reversal, correction = (json.loads(ledger[f"{A}-{k}1"][4]) for k in "RC")
    assert "functional_debit_amount" not in reversal["lines"][0]  # it reverses what was exported
    assert correction["lines"][0]["functional_debit_amount"] == "120.00"
    assert _net([old[0], reversal, correction]) == {
        "1010": Decimal("120.00"), "1150": Decimal("-125.40"), "6150": Decimal("5.40")}


def _without_functional(batch: dict) -> dict:
    drop = ("channel_id", "functional_currency", "fx_rate", "functional_debit_amount", "functional_credit_amount")
    return {**{k: v for k, v in batch.items() if k not in drop},
            "lines": [{k: v for k, v in line.items() if k not in drop} for line in batch["lines"]]}


def test_an_empty_build_after_exports_reverses_nothing(api, warehouse_path):
    _set_marts(warehouse_path, _settlement(A, "100.00", "3.20"))
    _run(api, warehouse_path)
    _set_marts(warehouse_path)  # a rebuild that came out empty
    result, _ = _run(api, warehouse_path, raise_on_error=False)
    assert not result.success
    assert _posted_keys(api) == [A]
    assert set(_ledger(warehouse_path)) == {A}
