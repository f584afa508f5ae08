"""The posting gate reads the latest result of every dbt test upstream of the postings from the Dagster
instance: an upstream test of severity error that failed blocks the export, a warning does not, a test
downstream of the postings is not its business, and a later pass clears it."""
import json

from dagster import AssetCheckEvaluation, AssetCheckSeverity, DagsterInstance

from orchestration.defs.dbt.project import omnirecon_dbt
from orchestration.defs.finance.posting_gate import failed_upstream_tests, upstream_test_checks


def _checks():
    return upstream_test_checks(json.loads(omnirecon_dbt.manifest_path.read_text()))


def _report(instance, key, passed: bool, severity=AssetCheckSeverity.ERROR):
    instance.report_runless_asset_event(AssetCheckEvaluation(
        asset_key=key.asset_key, check_name=key.name, passed=passed, severity=severity))


def test_upstream_tests_cover_what_the_postings_are_built_from():
    names = {key.asset_key.to_user_string() for key in _checks()}
    assert {"marts/settlement_lines", "marts/payouts", "marts/orders", "marts/journal_lines",
            "marts/posting_batches", "staging/stg_shopify__payouts"} <= names
    assert "marts/available_to_sell" not in names  # ATS is not posted


def test_a_failed_upstream_error_test_blocks_and_a_later_pass_clears_it():
    checks = {key.asset_key.to_user_string(): key for key in _checks()}
    journal_test = next(key for name, key in checks.items() if name == "marts/journal_lines")
    payout_test = next(key for name, key in checks.items() if name == "marts/payouts")
    with DagsterInstance.ephemeral() as instance:
        assert failed_upstream_tests(instance) == []  # nothing ran yet: nothing is known against them
        _report(instance, journal_test, passed=False)
        _report(instance, payout_test, passed=False, severity=AssetCheckSeverity.WARN)
        assert failed_upstream_tests(instance) == [journal_test]
        _report(instance, journal_test, passed=True)
        assert failed_upstream_tests(instance) == []
