"""The whole slice through Dagster: pull two sandbox days over HTTP, load, build dbt, gate and export."""
from __future__ import annotations

import json
from datetime import date

import pytest
from dagster import DagsterInstance

from connectors.sandbox.retailer import start_sandbox
from connectors.sandbox.simulator import SandboxConfig
from connectors.warehouse import connect
from orchestration import local_paths
from orchestration.demo import run_pipeline
from orchestration.reconciliation_summary import differences_from_truth, summarize

TWO_DAYS = SandboxConfig(seed=1, start_date=date(2026, 11, 2), days=2, orders_per_day=30, anomaly_rate=0.15)


@pytest.fixture
def sandbox(omnirecon_home, monkeypatch):
    with start_sandbox(TWO_DAYS, omnirecon_home / "sandbox", retry_after_seconds=0.05) as running:
        for key, value in running.env.items():
            monkeypatch.setenv(key, value)
        yield running


def _exported_batches() -> dict[str, dict]:
    # the generic JSON file of each batch (beside it: CSV, NetSuite CSV, Business Central journal lines)
    return {p.name.removesuffix(".json"): json.loads(p.read_text())
            for p in (local_paths.export_root() / "erp").glob("*/*.json") if p.name.count(".") == 1}


def test_two_days_reconcile_exactly_as_the_ground_truth(sandbox):
    truth = sandbox.world.ground_truth
    # The sandbox must have something to find, or this test proves nothing.
    for reason in ("amount_mismatch", "captured_not_settled", "refund_without_order"):
        assert truth["exceptions_by_reason"].get(reason, 0) > 0, reason
    assert truth["settlement_lines"]["matched"] > 0

    result = run_pipeline(TWO_DAYS, DagsterInstance.ephemeral(), log=lambda _: None)
    assert result.success

    with connect(str(local_paths.duckdb_path())) as warehouse:
        assert differences_from_truth(warehouse, truth) == []
        summary = summarize(warehouse)
    matched_lines = len({(m["provider"], m["settlement_line_id"]) for m in truth["matches"]})
    assert summary["settlement_lines"]["matched"] == matched_lines
    assert summary["exceptions_by_reason"] == truth["exceptions_by_reason"]
    # every ready batch balances; a held one says why
    assert all(b["balanced"] for b in summary["posting_batches"] if b["status"] == "ready")
    assert all(b["blocked_reason"] for b in summary["posting_batches"] if b["status"] == "blocked")
    report = next(e for e in result.get_asset_materialization_events()
                  if e.asset_key.path == ["reports", "reconciliation_summary"]).materialization.metadata
    lines = summary["settlement_lines"]
    assert report["matched"].value == lines["matched"] == matched_lines
    assert report["auto_match_rate"].value == round(lines["matched"] / (lines["total"] - lines["no_match_needed"]), 4)

    exported = _exported_batches()
    assert set(exported) == {b["batch_id"] for b in summary["posting_batches"] if b["status"] == "ready"}
    assert {b["batch_id"] for b in summary["posting_batches"] if b["provider"] == "shopify_payments"} <= set(exported)
    for batch in exported.values():
        debit = sum(float(line["debit_amount"]) for line in batch["lines"])
        credit = sum(float(line["credit_amount"]) for line in batch["lines"])
        assert round(debit - credit, 2) == 0
        assert batch["total_debit"] == batch["total_credit"]

    # A replay of the same days lands nothing new, builds the same marts and exports no new batch.
    before = {p.name: p.stat().st_mtime_ns for p in (local_paths.export_root() / "erp").glob("*/*.json")}
    assert run_pipeline(TWO_DAYS, DagsterInstance.ephemeral(), log=lambda _: None).success
    with connect(str(local_paths.duckdb_path())) as warehouse:
        assert summarize(warehouse) == summary
    assert {p.name: p.stat().st_mtime_ns for p in (local_paths.export_root() / "erp").glob("*/*.json")} == before


def test_an_unbalanced_batch_never_reaches_the_export(sandbox):
    from orchestration.definitions import defs

    instance = DagsterInstance.ephemeral()
    pull = defs.resolve_job_def("shopify_daily_pull")
    for day in ("2026-11-02", "2026-11-03"):
        assert pull.execute_in_process(partition_key=day, instance=instance).success
    # The provider's stated payout total disagrees with its own lines: the journal cannot balance.
    payout_id = sandbox.world.store.payouts[0]["id"]
    with connect(str(local_paths.duckdb_path())) as warehouse:
        warehouse.execute("update raw_shopify.payouts set amount = '1.00' where id = ?", [payout_id])

    result = defs.resolve_job_def("reconciliation_build").execute_in_process(instance=instance, raise_on_error=False)

    # dbt holds the batch with its reason; the gate, which recomputes every ready batch, lets the rest go on
    with connect(str(local_paths.duckdb_path())) as warehouse:
        status, reason = warehouse.fetchall("select status, blocked_reason from marts.posting_batches "
                                            "where payout_id = ?", [str(payout_id)])[0]
    assert status == "blocked" and "unbalanced" in reason
    gate = [e for e in result.get_asset_check_evaluations() if e.check_name == "posting_batches_balance"]
    assert len(gate) == 1 and gate[0].passed
    assert gate[0].metadata["unbalanced_batches"].value == 0 and gate[0].metadata["held_batches"].value >= 1
    assert not [b for b in _exported_batches().values() if b["payout_id"] == str(payout_id)]
