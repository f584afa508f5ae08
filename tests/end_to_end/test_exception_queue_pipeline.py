"""The exception queue through Dagster on the sandbox: it starts equal to the ground truth, keeps finance's
decisions across rebuilds, and closes what a late settlement resolves, exactly those and nothing else."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
from dagster import DagsterInstance

from connectors.sandbox.retailer import start_sandbox
from connectors.sandbox.simulator import SandboxConfig
from connectors.warehouse import connect
from orchestration import cli, local_paths
from orchestration.demo import replay_stages, run_pipeline
from orchestration.reconciliation_summary import accuracy, differences_from_truth

TWO_DAYS = SandboxConfig(seed=1, start_date=date(2026, 11, 2), days=2, orders_per_day=30, anomaly_rate=0.15)
# Three days hold two payouts (paid on the 3rd and the 4th): the first can arrive late while the second
# already tells the model which captures should have been paid out by now.
THREE_DAYS = SandboxConfig(seed=1, start_date=date(2026, 11, 2), days=3, orders_per_day=30, anomaly_rate=0.15)

QUEUE_COLUMNS = ("exception_id", "reason_code", "reference_id", "status", "close_reason", "first_seen_at",
                 "last_seen_at", "closed_at")


@contextmanager
def _running(config: SandboxConfig, home, monkeypatch):
    monkeypatch.delenv("OMNIRECON_TARGET", raising=False)  # the CLI reads the same DuckDB file as the run
    with start_sandbox(config, home / "sandbox", retry_after_seconds=0.05) as running:
        for key, value in running.env.items():
            monkeypatch.setenv(key, value)
        yield running


@pytest.fixture
def sandbox(omnirecon_home, monkeypatch):
    with _running(TWO_DAYS, omnirecon_home, monkeypatch) as running:
        yield running


@pytest.fixture
def three_day_sandbox(omnirecon_home, monkeypatch):
    with _running(THREE_DAYS, omnirecon_home, monkeypatch) as running:
        yield running


def _queue() -> dict[str, dict]:
    with connect(str(local_paths.duckdb_path())) as warehouse:
        rows = warehouse.fetchall(f"select {', '.join(QUEUE_COLUMNS)} from finance_state.exception_queue")
    return {row[0]: dict(zip(QUEUE_COLUMNS, row)) for row in rows}


def _current_exception_ids() -> set[str]:
    with connect(str(local_paths.duckdb_path())) as warehouse:
        return {row[0] for row in warehouse.fetchall("select exception_id from marts.reconciliation_exceptions")}


def _build(instance):
    from orchestration.definitions import defs

    result = defs.resolve_job_def("reconciliation_build").execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    return result


def _queue_metadata(result) -> dict:
    event = next(e for e in result.get_asset_materialization_events()
                 if e.asset_key.path == ["finance", "exception_queue"])
    return {key: value.value for key, value in event.materialization.metadata.items()}


def test_queue_starts_as_the_ground_truth_and_keeps_decisions_across_a_rebuild(sandbox, capsys):
    truth = sandbox.world.ground_truth
    instance = DagsterInstance.ephemeral()
    result = run_pipeline(TWO_DAYS, instance, log=lambda _: None)
    assert result.success

    queue = _queue()
    expected = {(e["reason_code"], e["reference_id"]) for e in truth["exceptions"]}
    assert {"exact_reference", "many_to_one"} <= {m["match_rule"] for m in truth["matches"]}
    assert {(row["reason_code"], row["reference_id"]) for row in queue.values()} == expected
    assert {row["status"] for row in queue.values()} == {"open"}
    report = _queue_metadata(result)
    assert (report["opened"], report["closed"], report["reopened"]) == (len(expected), 0, 0)
    assert report["open_exceptions"] == len(expected)
    assert "0-2 days" in report["ageing"] and f"0-2 days  {'█' * 30} {len(expected)}" in report["ageing_chart"]
    assert "shopify_payments" in report["auto_match_rate_by_provider"] and "adyen" in report["payout_tie_out"]

    # Finance accepts one, by a unique prefix, from the command line.
    chosen = sorted(queue.values(), key=lambda row: (row["reason_code"], row["reference_id"]))[0]
    assert cli.main(["exceptions", "resolve", chosen["exception_id"][:10], "--decision", "accepted",
                     "--note", "within tolerance, agreed with the PSP", "--by", "finance-test"]) == 0
    assert f"exception {chosen['exception_id']} accepted by finance-test" in capsys.readouterr().out
    assert cli.main(["exceptions", "list", "--status", "accepted"]) == 0
    listed = capsys.readouterr().out
    assert chosen["exception_id"][:12] in listed and "accepted" in listed and "1 exception" in listed
    with pytest.raises(SystemExit, match="too short"):
        cli.main(["exceptions", "resolve", "abc", "--decision", "accepted", "--note", "x"])

    # A rebuild from the same raw data: nothing opens or closes, the decision and first sightings stay.
    report = _queue_metadata(_build(instance))
    assert (report["opened"], report["closed"], report["reopened"]) == (0, 0, 0)
    assert report["open_exceptions"] == len(expected) - 1
    after = _queue()
    assert after.keys() == queue.keys()
    assert after[chosen["exception_id"]]["status"] == "accepted"
    assert all(after[i]["first_seen_at"] == row["first_seen_at"] for i, row in queue.items())
    assert all(after[i]["last_seen_at"] >= queue[i]["last_seen_at"] for i in queue)

    # Then a rebuild, a backfill of every day and a re-delivery of every file and webhook: after each, the
    # same matches and exceptions as the truth, the same queue, and finance's decision still there.
    stages = list(_checked_stages(sandbox, instance, truth))
    assert stages == ["rebuild", "backfill of every day", "re-delivery of every file and webhook"]
    replayed = _queue()
    assert replayed.keys() == queue.keys()
    assert replayed[chosen["exception_id"]]["status"] == "accepted"
    assert all(replayed[i]["first_seen_at"] == row["first_seen_at"] for i, row in queue.items())


def _checked_stages(sandbox, instance, truth):
    for stage in replay_stages(TWO_DAYS, sandbox, instance, log=lambda _: None):
        with connect(str(local_paths.duckdb_path())) as warehouse:
            assert differences_from_truth(warehouse, truth) == [], stage
            assert accuracy(warehouse, truth)["all"]["false_matches"] == 0
        yield stage


def test_a_late_settlement_closes_exactly_what_it_resolves(three_day_sandbox):
    instance = DagsterInstance.ephemeral()
    run_pipeline(THREE_DAYS, instance, log=lambda _: None, build=False)
    # Hold back the first payout and its balance transactions, as if the provider had not reported them yet.
    with connect(str(local_paths.duckdb_path())) as warehouse:
        payout_id = warehouse.fetchall("select id from raw_shopify.payouts order by \"date\", id limit 1")[0][0]
        warehouse.execute("create schema if not exists held_back")
        for table, key in (("payouts", "id"), ("balance_transactions", "payout_id")):
            warehouse.execute(f"create table held_back.{table} as select * from raw_shopify.{table} where {key} = ?",
                              [payout_id])
            warehouse.execute(f"delete from raw_shopify.{table} where {key} = ?", [payout_id])
    _build(instance)
    before, queue_before = _current_exception_ids(), _queue()
    assert set(queue_before) == before

    # The late settlement arrives.
    with connect(str(local_paths.duckdb_path())) as warehouse:
        for table in ("payouts", "balance_transactions"):
            warehouse.execute(f"insert into raw_shopify.{table} select * from held_back.{table}")
        warehouse.execute("drop schema held_back cascade")
    report = _queue_metadata(_build(instance))
    now = _current_exception_ids()
    resolved = before - now
    assert resolved, "holding back a payout should have left captures unsettled"

    queue = _queue()
    closed = {i for i, row in queue.items() if row["closed_at"] is not None}
    assert closed == resolved
    assert {queue[i]["close_reason"] for i in closed} == {"resolved_by_data"}
    assert {queue[i]["status"] for i in closed} == {"closed"}
    assert all(queue[i]["first_seen_at"] == queue_before[i]["first_seen_at"] for i in closed)
    assert {i for i, row in queue.items() if row["status"] == "open"} == now
    assert (report["closed"], report["opened"]) == (len(resolved), len(now - before))
