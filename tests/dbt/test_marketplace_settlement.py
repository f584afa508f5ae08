"""The regional marketplaces' settlement lines and payouts, and their reconciliation, against the sandbox's truth.

The sandbox retailer serves everything into a DuckDB warehouse. dbt builds the marketplace's settlement lines
and payouts (int_marketplace__settlement_lines, int_marketplace__payouts) with their tests, then:

- every file row but the Disbursement is a line, in the settlement_lines contract; each payout is the
  settlement's Disbursement, dated and sized as the deposit the bank receives;
- Σ net of a payout's lines is its stated amount, except the payouts the truth expects a payout_total_mismatch
  for (a row of the settlement was quarantined);
- every sale and refund line is expected-matched or expected-excepted, and the expected matches add up to the
  orders' totals (the counterparts the matcher sees), refunds without an order name no order;
- once the finance marts are built, settlement_matches and reconciliation_exceptions of each marketplace equal
  the truth exactly (bank deposit reasons aside: the bank simulation records those).

Seed 25 over five days at anomaly rate 0.1: a refund of an order sold before the window (two lines), a refund
whose order's only sale row was quarantined, and three settlements short of a quarantined row.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from connectors.sandbox.simulator import SandboxConfig
from tests.sandbox_raw import load_sandbox_raw, query, run_dbt

CONFIG = SandboxConfig(seed=25, days=5, orders_per_day=10, anomaly_rate=0.1)
LINES = ["build", "--select", "+int_marketplace__settlement_lines", "+int_marketplace__payouts", "+int_marketplace__orders"]
MARTS = ["build", "--select", "+settlement_matches", "+reconciliation_exceptions", "+payouts"]
CONTRACT = Path(__file__).resolve().parents[2] / "dbt_project/models/marts/finance/_finance__models.yml"
DUCKDB_TYPES = {"varchar": "VARCHAR", "numeric(18,4)": "DECIMAL(18,4)", "timestamptz": "TIMESTAMP WITH TIME ZONE",
                "date": "DATE"}
NEEDS_MATCH = ("sale", "refund", "chargeback", "chargeback_reversal", "other")
PAYOUT_COLUMNS = ["provider", "payout_id", "payout_status", "payout_date", "stated_amount", "currency"]


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    work = tmp_path_factory.mktemp("marketplace_settlement")
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


def _marketplaces(world) -> list[str]:
    """Every marketplace the sandbox simulates (each is its own provider)."""
    return sorted({o.channel for o in world.orders if o.channel.startswith("marketplace_")})


def _truth(sandbox, provider: str) -> tuple[set, set]:
    truth = sandbox.ground_truth
    matches = {(m["provider"], m["settlement_line_id"], m["counterpart_id"], m["match_rule"], Decimal(m["variance"]))
               for m in truth["matches"] if m["provider"] == provider}
    exceptions = {(e["provider"], e["reason_code"], e["reference_type"], e["reference_id"])
                  for e in truth["exceptions"]
                  if e["provider"] == provider and not e["reason_code"].startswith("deposit_")}
    return matches, exceptions


def _lines(target: str, provider: str) -> dict[str, dict]:
    columns = ["settlement_line_id", "payout_id", "line_type", "order_reference", "payment_reference", "gross_amount",
               "fee_amount", "net_amount", "currency"]
    rows = query(target, f"select {', '.join(columns)} from intermediate.int_marketplace__settlement_lines "
                         f"where provider = '{provider}'")
    return {row[0]: dict(zip(columns, row)) for row in rows}


def test_the_sandbox_exercises_every_anomaly(raw):
    sandbox = raw["sandbox"]
    for provider in _marketplaces(raw["world"]):
        matches, exceptions = _truth(sandbox, provider)
        assert {rule for _, _, _, rule, _ in matches} == {"order_reference_amount", "many_to_one"}
        reasons = {reason for _, reason, _, _ in exceptions}
        assert reasons == {"refund_without_order", "payout_total_mismatch"}
    anomalies = sandbox.channels["marketplace"].ground_truth["anomalies"]
    assert anomalies["refund_of_order_before_window"] > 0


def test_lines_and_payouts_follow_the_contract(built):
    contract = {m["name"]: m for m in yaml.safe_load(CONTRACT.read_text())["models"]}
    for model, contract_model, names in (
            ("int_marketplace__settlement_lines", "settlement_lines", None),
            ("int_marketplace__payouts", "payouts", PAYOUT_COLUMNS)):
        declared = {c["name"]: c["data_type"] for c in contract[contract_model]["columns"]}
        names = names or list(declared)
        rows = query(built["duckdb"], "select column_name, data_type from information_schema.columns "
                                      f"where table_schema = 'intermediate' and table_name = '{model}' "
                                      "order by ordinal_position")
        assert rows == [(name, DUCKDB_TYPES[declared[name]]) for name in names]


def test_every_row_but_the_disbursement_is_a_line_and_the_disbursement_is_the_payout(built):
    world = built["world"]
    for provider in _marketplaces(world):
        lines = _lines(built["duckdb"], provider)
        payouts = query(built["duckdb"], f"select {', '.join(PAYOUT_COLUMNS)} from intermediate.int_marketplace__payouts "
                                         f"where provider = '{provider}'")
        assert len(lines) + len(payouts) == world.records[provider]["settlement_lines"]
        assert {line["payment_reference"] for line in lines.values()} == {None}
        for line in lines.values():
            assert line["net_amount"] == line["gross_amount"] - line["fee_amount"]
        deposits = {(d.payout_id, d.value_date, d.amount, d.currency) for d in world.deposits if d.provider == provider}
        assert {(p[1], p[3], p[4], p[5]) for p in payouts} == deposits
        assert {p[2] for p in payouts} == {"paid"}
        assert {line["payout_id"] for line in lines.values()} == {p[1] for p in payouts}


def test_lines_add_up_to_the_stated_amount_but_where_a_row_was_quarantined(built):
    for provider in _marketplaces(built["world"]):
        _, exceptions = _truth(built["sandbox"], provider)
        expected = {ref for _, reason, kind, ref in exceptions if reason == "payout_total_mismatch" and kind == "payout"}
        differing = query(built["duckdb"], f"""
            select payouts.payout_id
            from intermediate.int_marketplace__payouts as payouts
            left join intermediate.int_marketplace__settlement_lines as lines
                on payouts.provider = lines.provider and payouts.payout_id = lines.payout_id
            where payouts.provider = '{provider}'
            group by payouts.payout_id, payouts.stated_amount
            having payouts.stated_amount <> coalesce(sum(lines.net_amount), 0)""")
        assert expected and {row[0] for row in differing} == expected


def test_every_line_is_matched_excepted_or_needs_no_match(built):
    for provider in _marketplaces(built["world"]):
        matches, exceptions = _truth(built["sandbox"], provider)
        lines = _lines(built["duckdb"], provider)
        matched = {line_id for _, line_id, _, _, _ in matches}
        excepted = {ref for _, _, kind, ref in exceptions if kind == "settlement_line"}
        needing = {line_id for line_id, line in lines.items() if line["line_type"] in NEEDS_MATCH}
        assert needing == matched | excepted
        assert not matched & excepted


def test_expected_matches_add_up_to_the_orders_the_matcher_sees(built):
    """The truth, checked against what the models built: each expected group sums to its order's amount."""
    target = built["duckdb"]
    for provider in _marketplaces(built["world"]):
        matches, exceptions = _truth(built["sandbox"], provider)
        lines = _lines(target, provider)
        orders = {row[0]: {"sale": row[1], "refund": -row[2]} for row in query(
            target, "select order_id, order_total, refunded_total from intermediate.int_marketplace__orders "
                    f"where channel_id = '{provider}'")}
        groups: dict[tuple, list[str]] = defaultdict(list)
        for _, line_id, order_id, rule, variance in matches:
            assert variance == 0 and lines[line_id]["order_reference"] == order_id
            groups[(order_id, lines[line_id]["line_type"], rule)].append(line_id)
        for (order_id, kind, rule), line_ids in groups.items():
            assert (rule == "order_reference_amount") == (len(line_ids) == 1)
            assert sum(lines[line_id]["gross_amount"] for line_id in line_ids) == orders[order_id][kind]
        for _, reason, _, ref in exceptions:
            if reason == "refund_without_order":
                assert lines[ref]["line_type"] == "refund" and lines[ref]["order_reference"] not in orders


def test_matches_and_exceptions_equal_the_truth(marts):
    for provider in _marketplaces(marts["world"]):
        matches, exceptions = _truth(marts["sandbox"], provider)
        found = {(p, line, counterpart, rule, Decimal(variance)) for p, line, counterpart, rule, variance in query(
            marts["duckdb"], "select provider, settlement_line_id, counterpart_id, match_rule, variance "
                             f"from marts.settlement_matches where provider = '{provider}'")}
        assert found == matches
        queued = set(query(marts["duckdb"], "select provider, reason_code, reference_type, reference_id "
                                            f"from marts.reconciliation_exceptions where provider = '{provider}' "
                                            "and reason_code not like 'deposit%'"))
        assert queued == exceptions
