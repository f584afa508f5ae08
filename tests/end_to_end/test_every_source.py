"""Every source of the sandbox retailer lands through Dagster with its records equal to the ground truth.

API pulls (Shopify, Stripe, Amazon, the 3PL, the ERP, store POS), inbox drops (Amazon and Adyen
settlement reports, marketplace settlement files, Z reports, WMS snapshots, bank statements) and
webhooks (Shopify and Stripe, some delivered twice) all reach their raw tables; then everything
happens again (files re-dropped, webhooks re-delivered, pulls re-run) and nothing is added.
"""
from __future__ import annotations

import shutil
from datetime import date

import pytest
import requests
from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context

from connectors.sandbox.retailer import start_sandbox
from connectors.sandbox.simulator import SandboxConfig
from connectors.warehouse import connect
from connectors.webhooks.receiver import WebhookReceiver, WebhookSecrets
from orchestration import local_paths
from orchestration.demo import deliver_sandbox_webhooks, run_pipeline
from orchestration.source_counts import (differences_in_record_counts, raw_modules, raw_record_counts,
                                         truth_by_schema)

CONFIG = SandboxConfig(seed=1, start_date=date(2026, 11, 2), days=2, orders_per_day=15, malformed_rate=0.05)


@pytest.fixture
def sandbox(omnirecon_home, monkeypatch):
    with start_sandbox(CONFIG, omnirecon_home / "sandbox", retry_after_seconds=0.05) as running:
        for key, value in running.env.items():
            monkeypatch.setenv(key, value)
        yield running


def _record_counts() -> dict[str, dict[str, int]]:
    with connect(str(local_paths.duckdb_path())) as warehouse:
        return raw_record_counts(warehouse, raw_modules())


def test_every_source_lands_its_ground_truth_and_a_replay_adds_nothing(sandbox):
    from orchestration.definitions import defs

    instance = DagsterInstance.ephemeral()
    sensors = [s for s in defs.sensors if s.name.endswith("_inbox")]
    assert {s.name for s in sensors} >= {"adyen_settlements_inbox", "amazon_settlements_inbox", "bank_statements_inbox",
                                         "marketplace_settlements_inbox", "pos_z_reports_inbox", "wms_snapshots_inbox"}
    for inbox_sensor in sensors:  # every file source has files waiting, and its sensor asks for a run
        assert isinstance(defs.resolve_sensor_def(inbox_sensor.name)(build_sensor_context(instance=instance)),
                          RunRequest), inbox_sensor.name

    sent = deliver_sandbox_webhooks(sandbox)
    assert sent.duplicates_sent > 0 and not sent.undelivered
    run_pipeline(CONFIG, instance, log=lambda _: None, build=False)

    truth = truth_by_schema(sandbox.world.ground_truth["sources"])
    counts = _record_counts()
    assert differences_in_record_counts(counts, truth) == []
    landed = {schema for schema, tables in counts.items() if any(n for t, n in tables.items() if t != "_quarantine")}
    assert landed == {"raw_shopify", "raw_stripe", "raw_amazon", "raw_square", "raw_adyen", "raw_marketplace",
                      "raw_wms", "raw_erp", "raw_bank", "raw_webhooks"}
    # malformed rows were quarantined with a reason while the rest of their files landed
    assert sum(tables.get("_quarantine", 0) for tables in truth.values()) > 0
    with connect(str(local_paths.duckdb_path())) as warehouse:
        reasons = warehouse.fetchall("select reason from raw_marketplace._quarantine")
    assert reasons and all(reason for (reason,) in reasons)
    for inbox_sensor in sensors:  # every file was taken: nothing left to run for
        assert isinstance(defs.resolve_sensor_def(inbox_sensor.name)(build_sensor_context(instance=instance)),
                          SkipReason), inbox_sensor.name

    # Everything again: the same files dropped under other names, the webhooks re-delivered, the pulls re-run.
    inbox = local_paths.inbox_root()
    for processed in inbox.glob("*/processed/*"):
        shutil.copy(processed, processed.parent.parent / f"again-{processed.name}")
    deliver_sandbox_webhooks(sandbox)
    run_pipeline(CONFIG, instance, log=lambda _: None, build=False)
    assert _record_counts() == counts
    assert not list(inbox.glob("*/quarantine/*.reason.txt"))
    assert len(list(inbox.glob("*/processed/duplicate-*"))) == len(sandbox.dropped_files)


def test_a_webhook_with_a_bad_signature_is_refused_and_stored_nowhere(sandbox):
    receiver = WebhookReceiver(local_paths.landing_root(), WebhookSecrets.from_env(sandbox.env)).start()
    try:
        answer = requests.post(f"{receiver.base_url}/webhooks/stripe", data=b'{"id": "evt_1", "type": "charge.succeeded"}',
                               headers={"Stripe-Signature": "t=1,v1=00"}, timeout=5)
        assert answer.status_code == 401
        assert receiver.store.files() == []
    finally:
        receiver.stop()
