"""Stripe's settlement lines and payouts, and their reconciliation, against the sandbox's truth.

The sandbox retailer serves everything into a DuckDB warehouse. dbt builds Stripe's settlement lines and
payouts (int_stripe__settlement_lines, int_stripe__payouts) with their tests, then:

- every balance transaction of a landed payout but the payout's own is a line, in the settlement_lines
  contract; each payout is dated and sized as the deposit the bank receives;
- Σ net of a payout's lines is its stated amount (Stripe's API serves no malformed rows, so no payout
  may differ but those the truth expects a payout_total_mismatch for);
- every line that needs a match is expected-matched or expected-excepted; each expected match names the
  payment event whose provider_reference is the line's payment_reference, for the same amount; the fee
  mismatches are exactly the sale lines off Stripe's standard 2.9% + 0.30;
- once the finance marts are built, settlement_matches and reconciliation_exceptions of provider stripe
  equal the truth exactly (bank deposit reasons aside: the bank simulation records those).

Seed 8 over five days at anomaly rate 0.1: three payouts land, two international cards billed 3.9% + 0.30
(fee_mismatch) and a dispute withdrawal paid out (chargeback).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml

from connectors.sandbox.simulator import SandboxConfig
from tests.sandbox_raw import load_sandbox_raw, query, run_dbt

PROVIDER = "stripe"
CONFIG = SandboxConfig(seed=8, days=5, orders_per_day=40, anomaly_rate=0.1)
LINES = ["build", "--select", "+int_stripe__settlement_lines", "+int_stripe__payouts", "+int_stripe__payments"]
MARTS = ["build", "--select", "+settlement_matches", "+reconciliation_exceptions", "+payouts"]
CONTRACT = Path(__file__).resolve().parents[2] / "dbt_project/models/marts/finance/_finance__models.yml"
DUCKDB_TYPES = {"varchar": "VARCHAR", "numeric(18,4)": "DECIMAL(18,4)", "timestamptz": "TIMESTAMP WITH TIME ZONE",
                "date": "DATE"}
NEEDS_MATCH = ("sale", "refund", "chargeback", "chargeback_reversal", "other")
PAYOUT_COLUMNS = ["provider", "payout_id", "payout_status", "payout_date", "stated_amount", "currency"]
# The row seeds/fee_schedules.csv holds for Stripe's sale lines: 2.9% + 0.30, 0.01 tolerance.
SALE_FEE_RATE, SALE_FEE_FIXED, SALE_FEE_TOLERANCE = Decimal("0.029"), Decimal("0.30"), Decimal("0.01")


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    work = tmp_path_factory.mktemp("stripe_settlement")
    sandbox, duckdb_file = load_sandbox_raw(CONFIG, work / "home")
    return {"sandbox": sandbox, "world": sandbox.world, "duckdb": str(duckdb_file), "work": work}


@pytest.fixture(scope="module")
def built(raw):
    run_dbt(LINES, Path(raw["duckdb"]), raw["work"] / "lines")
    return raw


@pytest.fixture(scope="module")
def marts(built):
    run_dbt(MARTS, Path(built["duckdb"]), built["work"] / "marts")
    return built


def _truth(sandbox) -> tuple[set, set]:
    truth = sandbox.ground_truth
    matches = {(m["provider"], m["settlement_line_id"], m["counterpart_id"], m["match_rule"], Decimal(m["variance"]))
               for m in truth["matches"] if m["provider"] == PROVIDER}
    exceptions = {(e["provider"], e["reason_code"], e["reference_type"], e["reference_id"])
                  for e in truth["exceptions"]
                  if e["provider"] == PROVIDER and not e["reason_code"].startswith("deposit_")}
    return matches, exceptions


def _lines(target: str) -> dict[str, dict]:
    columns = ["settlement_line_id", "payout_id", "line_type", "fee_kind", "order_reference", "payment_reference",
               "gross_amount", "fee_amount", "net_amount", "currency"]
    rows = query(target, f"select {', '.join(columns)} from intermediate.int_stripe__settlement_lines")
    return {row[0]: dict(zip(columns, row)) for row in rows}


def _scheduled_fee(gross: Decimal) -> Decimal:
    return (SALE_FEE_RATE * abs(gross) + SALE_FEE_FIXED).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_the_sandbox_exercises_every_anomaly(raw):
    matches, exceptions = _truth(raw["sandbox"])
    assert {rule for _, _, _, rule, _ in matches} == {"exact_reference"}
    reasons = [reason for _, reason, _, _ in exceptions]
    assert reasons.count("fee_mismatch") == 2 and reasons.count("chargeback") == 1
    assert set(reasons) == {"fee_mismatch", "chargeback"}


def test_lines_and_payouts_follow_the_contract(built):
    contract = {m["name"]: m for m in yaml.safe_load(CONTRACT.read_text())["models"]}
    for model, contract_model, names in (
            ("int_stripe__settlement_lines", "settlement_lines", None),
            ("int_stripe__payouts", "payouts", PAYOUT_COLUMNS)):
        declared = {c["name"]: c["data_type"] for c in contract[contract_model]["columns"]}
        names = names or list(declared)
        rows = query(built["duckdb"], "select column_name, data_type from information_schema.columns "
                                      f"where table_schema = 'intermediate' and table_name = '{model}' "
                                      "order by ordinal_position")
        assert rows == [(name, DUCKDB_TYPES[declared[name]]) for name in names]


def test_every_balance_transaction_but_the_payouts_own_is_a_line_and_payouts_are_the_deposits(built):
    world, stripe = built["world"], built["sandbox"].channels[PROVIDER]
    lines = _lines(built["duckdb"])
    payouts = query(built["duckdb"], f"select {', '.join(PAYOUT_COLUMNS)} from intermediate.int_stripe__payouts")
    landed = {p["id"] for p in stripe.payouts if p["status"] == "paid"}
    assert set(lines) == {t["id"] for t in stripe.balance_transactions
                          if t["type"] != "payout" and stripe.payout_of[t["id"]] in landed}
    assert len(lines) + len(payouts) == world.records[PROVIDER]["balance_transactions"]
    deposits = {(d.payout_id, d.value_date, d.amount, d.currency) for d in world.deposits if d.provider == PROVIDER}
    assert {(p[1], p[3], p[4], p[5]) for p in payouts} == deposits and len(deposits) == 3
    assert {p[0] for p in payouts} == {PROVIDER} and {p[2] for p in payouts} == {"paid"}
    assert {line["payout_id"] for line in lines.values()} == {p[1] for p in payouts}
    for line in lines.values():
        assert line["net_amount"] == line["gross_amount"] - line["fee_amount"]


def test_lines_add_up_to_the_stated_amount_but_where_the_truth_says_otherwise(built):
    _, exceptions = _truth(built["sandbox"])
    expected = {ref for _, reason, kind, ref in exceptions if reason == "payout_total_mismatch" and kind == "payout"}
    differing = query(built["duckdb"], """
        select payouts.payout_id
        from intermediate.int_stripe__payouts as payouts
        left join intermediate.int_stripe__settlement_lines as lines
            on payouts.payout_id = lines.payout_id
        group by payouts.payout_id, payouts.stated_amount
        having payouts.stated_amount <> coalesce(sum(lines.net_amount), 0)""")
    assert {row[0] for row in differing} == expected


def test_every_line_is_matched_excepted_or_needs_no_match(built):
    matches, exceptions = _truth(built["sandbox"])
    lines = _lines(built["duckdb"])
    matched = {line_id for _, line_id, _, _, _ in matches}
    excepted = {ref for _, _, kind, ref in exceptions if kind == "settlement_line"}
    needing = {line_id for line_id, line in lines.items() if line["line_type"] in NEEDS_MATCH}
    assert needing == matched | excepted
    # a line both matched and queued is queued for what the match cannot settle: its fee, or a chargeback
    both = {reason for _, reason, kind, ref in exceptions if kind == "settlement_line" and ref in matched}
    assert both == {"fee_mismatch", "chargeback"}


def test_expected_matches_name_the_payment_event_the_line_references(built):
    """The truth, checked against what the models built: the matcher sees these counterparts."""
    matches, exceptions = _truth(built["sandbox"])
    lines = _lines(built["duckdb"])
    kinds = {"capture": "sale", "refund": "refund", "chargeback": "chargeback",
             "chargeback_reversal": "chargeback_reversal"}
    events = {row[0]: {"reference": row[1], "kind": kinds.get(row[2]), "amount": row[3]} for row in query(
        built["duckdb"], "select payment_id, provider_reference, event_type, gross_amount "
                         "from intermediate.int_stripe__payments")}
    for _, line_id, counterpart_id, _, variance in matches:
        line, event = lines[line_id], events[counterpart_id]
        assert (line["payment_reference"], line["line_type"]) == (event["reference"], event["kind"])
        assert line["gross_amount"] - event["amount"] == variance == 0
    off_schedule = {line_id for line_id, line in lines.items() if line["line_type"] == "sale"
                    and abs(line["fee_amount"] - _scheduled_fee(line["gross_amount"])) > SALE_FEE_TOLERANCE}
    assert off_schedule == {ref for _, reason, _, ref in exceptions if reason == "fee_mismatch"}
    for _, reason, kind, ref in exceptions:
        if reason == "chargeback":
            assert (lines[ref]["fee_amount"], lines[ref]["fee_kind"]) == (Decimal("15"), "chargeback_fee")


def test_matches_and_exceptions_equal_the_truth(marts):
    matches, exceptions = _truth(marts["sandbox"])
    found = {(p, line, counterpart, rule, Decimal(variance)) for p, line, counterpart, rule, variance in query(
        marts["duckdb"], "select provider, settlement_line_id, counterpart_id, match_rule, variance "
                         f"from marts.settlement_matches where provider = '{PROVIDER}'")}
    assert found == matches
    queued = set(query(marts["duckdb"], "select provider, reason_code, reference_type, reference_id "
                                        f"from marts.reconciliation_exceptions where provider = '{PROVIDER}' "
                                        "and reason_code not like 'deposit%'"))
    assert queued == exceptions
