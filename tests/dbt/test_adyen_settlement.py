"""Adyen's settlement lines and payouts (int_adyen__*), and what reconciliation makes of them, against the
sandbox's truth.

The sandbox retailer serves everything into a DuckDB warehouse (the stores' Adyen settlement detail reports
among it, with malformed rows quarantined) and dbt builds the Adyen settlement models with the stores' payment
events. Then, for provider adyen:

- the payouts are the deposits the bank receives (id, value date, amount), and each payout's lines add up to
  its stated amount, except the payouts that lost a quarantined row (payout_total_mismatch);
- every line is expected to match, expected to be an exception, or of a type that needs no match, and names
  its payment as marts.payments knows it (the PSP reference, the payment's kind and amount);
- settlement_matches and reconciliation_exceptions hold exactly the simulation's truth;
- the same landing zone replayed into PostgreSQL builds the very same lines and payouts.

Seed 5 over five days at a 10% anomaly rate injects every kind of Adyen anomaly, two same-amount sales keyed
on one store-day among them.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from connectors.sandbox.simulator import SandboxConfig
from tests.sandbox_raw import load_sandbox_raw, plain_rows, postgres_replica, query, run_dbt

PROVIDER = "adyen"
CONFIG = SandboxConfig(seed=5, days=5, anomaly_rate=0.1)
MODELS = ["int_adyen__settlement_lines", "int_adyen__payouts"]
BUILD_MODELS = ["build", "--select", *(f"+{model}" for model in MODELS), "+int_pos__payments", "stg_adyen__quarantine"]
BUILD_MARTS = ["build", "--select", "+settlement_matches", "+reconciliation_exceptions", "+payouts"]
LINE_COLUMNS = ["settlement_line_id", "provider", "payout_id", "line_type", "fee_kind", "order_reference",
                "payment_reference", "gross_amount", "fee_amount", "net_amount", "currency", "posted_at",
                "correlation_id"]
PAYOUT_COLUMNS = ["provider", "payout_id", "payout_status", "payout_date", "stated_amount", "currency"]
NO_MATCH_NEEDED = {"fee", "adjustment", "reserve_hold", "reserve_release"}
KINDS = {"sale": "sale", "capture": "sale", "refund": "refund"}  # payment event type -> line type it settles


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    work = tmp_path_factory.mktemp("adyen_settlement")
    world, duckdb_file = load_sandbox_raw(CONFIG, work / "home")
    run_dbt(BUILD_MODELS, duckdb_file, work / "dbt_models")
    return world, duckdb_file, work


def _rows(duckdb_file, sql: str) -> list[tuple]:
    return query(str(duckdb_file), sql)


def _lines(duckdb_file) -> dict[str, dict]:
    rows = _rows(duckdb_file, f"select {', '.join(LINE_COLUMNS)} from intermediate.int_adyen__settlement_lines")
    return {row[0]: dict(zip(LINE_COLUMNS, row)) for row in rows}


def _expected_matches(world) -> set[tuple]:
    return {(m["provider"], m["settlement_line_id"], m["counterpart_id"], m["match_rule"], Decimal(m["variance"]))
            for m in world.ground_truth["matches"] if m["provider"] == PROVIDER}


def _expected_exceptions(world) -> set[tuple]:
    return {(e["provider"], e["reason_code"], e["reference_type"], e["reference_id"])
            for e in world.ground_truth["exceptions"]
            if e["provider"] == PROVIDER and not e["reason_code"].startswith("deposit_")}


def test_the_sandbox_injects_every_adyen_anomaly(sandbox):
    world, _, _ = sandbox
    assert set(world.channels["adyen"].anomalies) == {
        "amount_mismatch", "duplicate_settlement", "chargeback", "keyed_entry", "keyed_entry_pair", "unrecorded_sale"}
    assert {reason for _, reason, _, _ in _expected_exceptions(world)} == {
        "amount_mismatch", "duplicate_settlement_line", "chargeback", "ambiguous_match", "unmatched_settlement_line",
        "payout_total_mismatch", "captured_not_settled"}
    assert {rule for _, _, _, rule, _ in _expected_matches(world)} == {"exact_reference", "amount_tolerance"}


def test_models_have_the_contracts_columns_in_order(sandbox):
    _, duckdb_file, _ = sandbox
    for model, expected in (("int_adyen__settlement_lines", LINE_COLUMNS), ("int_adyen__payouts", PAYOUT_COLUMNS)):
        columns = [name for (name,) in _rows(duckdb_file, (
            "select column_name from information_schema.columns where table_schema = 'intermediate' "
            f"and table_name = '{model}' order by ordinal_position"))]
        assert columns == expected, model


def test_payouts_are_what_the_bank_receives(sandbox):
    world, duckdb_file, _ = sandbox
    payouts = _rows(duckdb_file, f"select {', '.join(PAYOUT_COLUMNS)} from intermediate.int_adyen__payouts")
    deposits = {(PROVIDER, d.payout_id, "paid", d.value_date, d.amount, d.currency)
                for d in world.world.deposits if d.provider == PROVIDER}
    assert len(deposits) >= 4
    assert set(payouts) == deposits and len(payouts) == len(deposits)


def test_lines_add_up_to_their_payout_unless_a_row_was_quarantined(sandbox):
    world, duckdb_file, _ = sandbox
    differences = dict(_rows(duckdb_file, """
        select payouts.payout_id, payouts.stated_amount - coalesce(sum(lines.net_amount), 0)
        from intermediate.int_adyen__payouts as payouts
        left join intermediate.int_adyen__settlement_lines as lines on lines.payout_id = payouts.payout_id
        group by payouts.payout_id, payouts.stated_amount"""))
    short = {reference for _, reason, _, reference in _expected_exceptions(world) if reason == "payout_total_mismatch"}
    assert short and short < set(differences)
    assert {payout for payout, difference in differences.items() if difference != 0} == short
    # every row but the payouts, less the quarantined ones, is a line
    records = world.world.records[PROVIDER]
    assert len(_lines(duckdb_file)) == records["settlement_details"] - len(differences)
    assert _rows(duckdb_file, "select count(*) from staging.stg_adyen__quarantine")[0][0] == records["_quarantine"] > 0


def test_every_line_is_matched_excepted_or_needs_no_match(sandbox):
    world, duckdb_file, _ = sandbox
    lines = _lines(duckdb_file)
    matched = {line_id for _, line_id, _, _, _ in _expected_matches(world)}
    excepted = {reference for _, _, kind, reference in _expected_exceptions(world) if kind == "settlement_line"}
    assert (matched | excepted) <= set(lines)
    accounted = {line_id for line_id, line in lines.items()
                 if line_id in matched or line_id in excepted or line["line_type"] in NO_MATCH_NEEDED}
    assert accounted == set(lines)
    assert {line["line_type"] for line in lines.values()} == {"sale", "refund", "chargeback", "fee"}


def test_lines_name_their_payments_as_the_payments_know_them(sandbox):
    world, duckdb_file, _ = sandbox
    lines = _lines(duckdb_file)
    payments = {row[0]: row[1:] for row in _rows(duckdb_file, (
        "select payment_id, event_type, provider_reference, gross_amount, currency, correlation_id "
        "from intermediate.int_pos__payments where provider = 'adyen'"))}
    rules = defaultdict(int)
    for _, line_id, payment_id, rule, variance in _expected_matches(world):
        line = lines[line_id]
        event_type, reference, gross, currency, correlation_id = payments[payment_id]
        assert (line["line_type"], line["currency"]) == (KINDS[event_type], currency), line_id
        assert line["gross_amount"] - gross == variance, line_id
        if rule == "exact_reference":
            assert line["payment_reference"] == reference, line_id
            if event_type == "sale":
                assert line["correlation_id"] == correlation_id, line_id
        else:  # keyed on the terminal: matched on amount and date alone
            assert (line["payment_reference"], line["order_reference"]) == (None, None), line_id
            assert abs(variance) <= Decimal("0.05")
        rules[rule] += 1
    assert rules["exact_reference"] > 100 and rules["amount_tolerance"] > 0
    # the lines no payment can be found for carry no references either
    for _, reason, _, line_id in _expected_exceptions(world):
        if reason in ("ambiguous_match", "unmatched_settlement_line"):
            assert (lines[line_id]["payment_reference"], lines[line_id]["order_reference"]) == (None, None)


def test_postgres_builds_the_same_lines_and_payouts(sandbox, postgres_server):
    _, duckdb_file, work = sandbox
    with postgres_replica(postgres_server, work / "home", "adyen") as (dsn, env):
        run_dbt(BUILD_MODELS, None, work / "dbt_postgres", target="postgres", env=env)
        for model in MODELS:
            sql = f"select * from intermediate.{model}"
            duck, postgres = plain_rows(query(str(duckdb_file), sql)), plain_rows(query(dsn, sql))
            assert len(duck) == len(postgres) > 0, model
            assert duck == postgres, model


def test_matches_and_exceptions_equal_the_truth(sandbox):
    world, duckdb_file, work = sandbox
    run_dbt(BUILD_MARTS, duckdb_file, work / "dbt_marts")
    matches = {(provider, line_id, counterpart, rule, Decimal(variance)) for provider, line_id, counterpart, rule,
               variance in _rows(duckdb_file, (
                   "select provider, settlement_line_id, counterpart_id, match_rule, variance "
                   f"from marts.settlement_matches where provider = '{PROVIDER}'"))}
    assert matches == _expected_matches(world)
    exceptions = _rows(duckdb_file, (
        "select provider, reason_code, reference_type, reference_id from marts.reconciliation_exceptions "
        f"where provider = '{PROVIDER}' and reason_code not like 'deposit%'"))
    assert set(exceptions) == _expected_exceptions(world) and len(exceptions) == len(set(exceptions))
    short = {reference for _, reason, _, reference in _expected_exceptions(world) if reason == "payout_total_mismatch"}
    differing = {payout for (payout,) in _rows(duckdb_file, (
        f"select payout_id from marts.payouts where provider = '{PROVIDER}' and lines_difference <> 0"))}
    assert differing == short
