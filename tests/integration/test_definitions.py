"""The Dagster code location loads, as `dagster dev -w workspace.yaml` would load it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_definitions_have_the_slice_wired_together():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for expected in ("landing/shopify", "raw_shopify/orders", "staging/stg_shopify__orders", "marts/orders",
                     "marts/payments", "marts/settlement_matches", "marts/reconciliation_exceptions",
                     "marts/posting_batches", "marts/journal_lines", "outbound/erp_posting_export"):
        assert expected in keys, expected
    # dbt's sources are the raw load's assets, so the graph is one piece from API to export.
    assert AssetKey(["raw_shopify", "balance_transactions"]) in graph.get(
        AssetKey(["staging", "stg_shopify__balance_transactions"])).parent_keys
    gate = next(c for c in graph.asset_check_keys if c.name == "posting_batches_balance")
    assert graph.get_check_spec(gate).blocking and gate.asset_key == AssetKey(["marts", "posting_batches"])
    # dbt tests became asset checks too.
    assert sum(1 for c in graph.asset_check_keys if c.asset_key.path[0] == "marts") > 5
    assert {s.name for s in defs.schedules} >= {"shopify_daily_pull_schedule", "reconciliation_build_schedule"}
    pull = defs.resolve_job_def("shopify_daily_pull")
    assert pull.partitions_def is not None and pull.partitions_def.timezone == "America/New_York"


def test_workspace_loads_with_the_dagster_cli():
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, "SHOPIFY_SHOP_URL": "http://127.0.0.1:9",
                                 "SHOPIFY_ACCESS_TOKEN": "unused"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_every_channel_has_its_schedule_or_sensor():
    from orchestration.definitions import defs

    schedules = {s.name for s in defs.schedules}
    for source in ("shopify", "stripe", "amazon", "square", "wms", "erp"):
        assert f"{source}_daily_pull_schedule" in schedules, source
        assert defs.resolve_job_def(f"{source}_daily_pull").partitions_def.timezone == "America/New_York"
    sensors = {s.name for s in defs.sensors}
    assert sensors >= {"adyen_settlements_inbox", "amazon_settlements_inbox", "marketplace_settlements_inbox",
                       "pos_z_reports_inbox", "wms_snapshots_inbox", "bank_statements_inbox", "webhook_events_stored"}


def test_a_missing_credential_fails_naming_its_variable(omnirecon_home, monkeypatch):
    from dagster import DagsterInstance
    from dagster._core.errors import DagsterInvalidConfigError

    from orchestration.definitions import defs

    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    with pytest.raises(DagsterInvalidConfigError, match='environment variable "STRIPE_API_KEY" which is not set'):
        defs.resolve_job_def("stripe_daily_pull").execute_in_process(
            partition_key="2026-11-02", instance=DagsterInstance.ephemeral())
