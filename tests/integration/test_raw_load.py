"""Landing and raw loads: immutable files, idempotent bulk loads, quarantine, on DuckDB and PostgreSQL."""
from __future__ import annotations

import copy
from datetime import date

import pytest

from connectors.landing_zone import LandingZone, read_landed
from connectors.raw_load import load_landed_files
from connectors.sandbox.simulator import SandboxConfig, simulate
from connectors.warehouse import connect

WORLD = simulate(SandboxConfig(seed=3, start_date=date(2026, 11, 2), days=2, orders_per_day=25))


def _land_world(landing: LandingZone) -> list:
    store = WORLD.store
    bad_order = copy.deepcopy(store.orders[0])
    bad_order["id"] = 1
    bad_order["total_price"] = "twelve dollars"
    half = len(store.orders) // 2
    return [
        landing.land("shopify", "orders", "2026-11-02", store.orders[:half] + [bad_order]),
        landing.land("shopify", "orders", "2026-11-03", store.orders[half:]),
        landing.land("shopify", "transactions", "2026-11-02", [t for ts in store.transactions.values() for t in ts]),
        landing.land("shopify", "payouts", "2026-11-03", store.payouts),
        landing.land("shopify", "balance_transactions", "2026-11-03", store.balance_transactions),
    ]


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path):
    target = str(tmp_path / "wh.duckdb") if request.param == "duckdb" else request.getfixturevalue("postgres_database")
    with connect(target) as wh:
        yield wh


def _counts(wh) -> dict:
    tables = ["orders", "order_line_items", "refunds", "refund_line_items", "transactions", "payouts",
              "balance_transactions", "_quarantine"]
    return {t: wh.fetchall(f"select count(*) from raw_shopify.{t}")[0][0] for t in tables}


def test_loading_the_same_extract_twice_changes_nothing(warehouse, tmp_path):
    files = _land_world(LandingZone(tmp_path / "landing"))
    first = load_landed_files(warehouse, files)
    counts = _counts(warehouse)
    store = WORLD.store
    assert counts["orders"] == len(store.orders)
    assert counts["transactions"] == sum(len(t) for t in store.transactions.values())
    assert counts["balance_transactions"] == len(store.balance_transactions)
    assert counts["order_line_items"] == sum(len(o["line_items"]) for o in store.orders)
    assert first.files_loaded == 5 and first.quarantined == 1

    again = load_landed_files(warehouse, files)
    assert again.files_skipped == 5 and again.rows_inserted == {}
    # The same records landed again in a new file (a re-pull) add no rows either.
    repull = LandingZone(tmp_path / "landing").land("shopify", "orders", "2026-11-04", store.orders[:10], page=1)
    third = load_landed_files(warehouse, [repull])
    assert third.files_loaded == 1 and third.rows_inserted.get("orders", 0) == 0
    assert _counts(warehouse) == counts


def test_a_bad_record_is_quarantined_with_its_reason_and_the_rest_goes_on(warehouse, tmp_path):
    load_landed_files(warehouse, _land_world(LandingZone(tmp_path / "landing")))
    (stream, record_id, reason), = warehouse.fetchall("select stream, record_id, reason from raw_shopify._quarantine")
    assert (stream, record_id) == ("orders", "1")
    assert "total_price" in reason
    # Money arrives exact: the raw total equals the sandbox's, to the cent.
    total = warehouse.fetchall("select sum(cast(total_price as decimal(18, 2))) from raw_shopify.orders")[0][0]
    assert str(total) == WORLD.ground_truth["orders_total"]


def test_landing_is_immutable_and_content_addressed(tmp_path):
    landing = LandingZone(tmp_path)
    first = landing.land("shopify", "payouts", "2026-11-03", WORLD.store.payouts, page=0)
    original = first.read_bytes()
    extracted_at = read_landed(first).extracted_at
    again = landing.land("shopify", "payouts", "2026-11-03", WORLD.store.payouts, extracted_at=extracted_at, page=0)
    assert again == first and first.read_bytes() == original
    assert read_landed(first).records == WORLD.store.payouts
    assert first.stat().st_mode & 0o222 == 0  # written once, read-only from then on


def test_a_replay_skips_loaded_files_by_their_content_hash_without_reading_them_again(warehouse, tmp_path,
                                                                                      monkeypatch):
    from connectors.shopify import raw_tables

    landing = LandingZone(tmp_path / "landing")
    files = _land_world(landing)
    load_landed_files(warehouse, files[:3])
    counts = _counts(warehouse)

    def unreadable(stream, payload):
        raise AssertionError("a file already loaded was parsed again")

    monkeypatch.setattr(raw_tables, "flatten", unreadable)
    again = load_landed_files(warehouse, files[:3])
    assert (again.files_skipped, again.files_loaded, again.records_seen) == (3, 0, 0)
    assert _counts(warehouse) == counts
    monkeypatch.undo()

    rest = load_landed_files(warehouse, files)  # the rest of the landing zone: only what is new is read
    assert (rest.files_skipped, rest.files_loaded) == (3, 2)
    assert rest.rows_inserted == {"payouts": len(WORLD.store.payouts),
                                  "balance_transactions": len(WORLD.store.balance_transactions)}


def _table_rows(wh, table: str) -> list:
    columns = [f'"{c}"' for (c,) in wh.fetchall(
        "select column_name from information_schema.columns where table_schema = 'raw_shopify' and table_name = ? "
        "and column_name != '_loaded_at' order by ordinal_position", [table])]
    return sorted(wh.fetchall(f"select {', '.join(columns)} from raw_shopify.{table}"), key=repr)


def test_a_big_batch_is_read_by_worker_processes_into_the_same_rows(tmp_path, monkeypatch):
    from connectors import raw_load, raw_load_worker

    landing = LandingZone(tmp_path / "landing")
    files = _land_world(landing)
    same_content = landing.land("shopify", "payouts", "2026-11-03", WORLD.store.payouts,
                                extracted_at=read_landed(files[3]).extracted_at, page=0)
    batch = [*files, same_content, files[0]]  # a file twice in the batch: read once
    with connect(str(tmp_path / "one_process.duckdb")) as wh:
        load_landed_files(wh, files[:2])
        in_process = load_landed_files(wh, batch)
        tables = ["orders", "transactions", "payouts", "_quarantine", "_landed_files"]
        expected = {t: _table_rows(wh, t) for t in tables}

    def not_here(*args):
        raise AssertionError("a batch over WORKER_BATCH_BYTES was read in the caller's process")

    dealt, workers_render = [], raw_load_worker.render_in_workers

    def render_in_workers(source, shares):
        dealt.extend(path for share in shares for path, _ in share)
        return workers_render(source, shares)

    with connect(str(tmp_path / "workers.duckdb")) as wh:
        load_landed_files(wh, files[:2])  # small: in this process
        monkeypatch.setattr(raw_load, "WORKER_BATCH_BYTES", 0)
        monkeypatch.setattr(raw_load, "_render_file", not_here)  # the spawned workers import their own
        monkeypatch.setattr(raw_load_worker, "render_in_workers", render_in_workers)
        by_workers = load_landed_files(wh, batch)
        assert {t: _table_rows(wh, t) for t in expected} == expected

    # Only the files new to the warehouse went to the workers, each content once.
    assert sorted(dealt) == sorted(files[2:])

    assert (by_workers.files_loaded, by_workers.files_skipped) == (in_process.files_loaded, in_process.files_skipped)
    assert (by_workers.files_loaded, by_workers.files_skipped) == (3, 4)
    assert by_workers.rows_inserted == in_process.rows_inserted and by_workers.rows_inserted["transactions"] > 0
    assert by_workers.records_by_stream == in_process.records_by_stream


def test_a_worker_that_fails_fails_the_load_with_its_reason(tmp_path, monkeypatch):
    from connectors import raw_load

    files = _land_world(LandingZone(tmp_path / "landing"))
    torn = tmp_path / "landing" / "shopify" / "orders" / "2026-11-04" / "torn.json"
    torn.parent.mkdir(parents=True)
    torn.write_text('{"source": "shopify", "records": [')
    monkeypatch.setattr(raw_load, "WORKER_BATCH_BYTES", 0)
    with connect(str(tmp_path / "wh.duckdb")) as wh:
        with pytest.raises(RuntimeError, match="JSONDecodeError"):
            load_landed_files(wh, [*files, torn])
        assert wh.fetchall("select count(*) from raw_shopify._landed_files") == [(0,)]
