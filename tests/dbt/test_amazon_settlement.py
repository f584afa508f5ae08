"""Amazon's settlement lines and payouts, and their reconciliation, against the sandbox's ground truth.

The sandbox retailer serves everything into a DuckDB warehouse (as the demo does). dbt builds
`+int_amazon__settlement_lines +int_amazon__payouts` (and the orders) with their data and unit tests; then:

- every settlement report row that parsed is one line, with the settlement_lines contract's columns, and every
  settlement one payout, equal to the deposit the bank receives (payout id, value date, amount);
- Σ net of each payout's lines is its stated total, except the payouts that lost rows to the quarantine, which
  are exactly the expected payout_total_mismatch exceptions;
- every sale, refund and chargeback line is expected-matched (to its own order, of its own kind) or
  expected-excepted, and no line of a type that needs no match is in the truth;
- built with the finance marts, settlement_matches and reconciliation_exceptions for provider amazon equal the
  sandbox's truth exactly (those marts are the generic matcher's: a failure there may not be Amazon's).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from connectors.sandbox.simulator import SandboxConfig
from tests.sandbox_raw import DBT_PROJECT_DIR, load_sandbox_raw, query, run_dbt

# Seed 23 over five days: Amazon price adjustments, chargebacks and refunds of orders before the history, and
# quarantined rows that leave orders short (a group and a single line) and all payouts but one short of their
# total; one refund left with a single row (order_reference_amount).
CONFIG = SandboxConfig(seed=23, start_date=date(2026, 11, 2), days=5, orders_per_day=10, anomaly_rate=0.1,
                       malformed_rate=0.03)
PROVIDER = "amazon"
NEEDS_MATCH = ("sale", "refund", "chargeback", "chargeback_reversal")
BANK_REASONS = ("deposit_missing", "deposit_different")


def _contract(model: str) -> list[tuple[str, str]]:
    spec = yaml.safe_load((DBT_PROJECT_DIR / "models/marts/finance/_finance__models.yml").read_text())
    (found,) = [m for m in spec["models"] if m["name"] == model]
    return [(column["name"], column.get("data_type")) for column in found["columns"]]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    work = tmp_path_factory.mktemp("amazon_settlement")
    world, duckdb_file = load_sandbox_raw(CONFIG, work / "home")
    results = run_dbt(["build", "--select", "+int_amazon__settlement_lines", "+int_amazon__payouts",
                       "+int_amazon__orders"], duckdb_file, work / "dbt")
    return {"world": world, "duckdb": str(duckdb_file), "results": results, "work": work}


@pytest.fixture(scope="module")
def truth(sandbox):
    ground_truth = sandbox["world"].ground_truth
    matches = [m for m in ground_truth["matches"] if m["provider"] == PROVIDER]
    exceptions = [e for e in ground_truth["exceptions"]
                  if e["provider"] == PROVIDER and e["reason_code"] not in BANK_REASONS]
    return {"matches": matches, "exceptions": exceptions}


def _lines(sandbox) -> dict[str, dict]:
    columns = [name for name, _ in _contract("settlement_lines")]
    rows = query(sandbox["duckdb"], f"select {', '.join(columns)} from intermediate.int_amazon__settlement_lines")
    return {row[0]: dict(zip(columns, row)) for row in rows}


def test_the_build_ran_the_models_their_tests_and_unit_tests(sandbox):
    results = sandbox["results"]
    for model in ("int_amazon__settlement_lines", "int_amazon__payouts"):
        assert f"model.omnirecon.{model}" in results
        assert any(node.startswith(f"unit_test.omnirecon.{model}.") for node in results), model
    assert any(node.startswith("test.omnirecon.relationships_int_amazon__settlement_lines") for node in results)


def test_lines_and_payouts_follow_the_contracts(sandbox):
    types = {"varchar": "VARCHAR", "numeric(18,4)": "DECIMAL(18,4)", "timestamptz": "TIMESTAMP WITH TIME ZONE",
             "date": "DATE"}
    payout_columns = ["provider", "payout_id", "payout_status", "payout_date", "stated_amount", "currency"]
    payout_contract = dict(_contract("payouts"))
    for model, expected in (("int_amazon__settlement_lines", _contract("settlement_lines")),
                            ("int_amazon__payouts", [(c, payout_contract[c]) for c in payout_columns])):
        actual = query(sandbox["duckdb"], "select column_name, data_type from information_schema.columns "
                                          f"where table_schema = 'intermediate' and table_name = '{model}' "
                                          "order by ordinal_position")
        assert actual == [(name, types[kind]) for name, kind in expected], model


def test_every_parsed_row_is_a_line_and_every_settlement_the_deposit_the_bank_gets(sandbox):
    world = sandbox["world"].world
    lines = _lines(sandbox)
    assert len(lines) == world.records[PROVIDER]["settlement_report_rows"]
    assert all(line["provider"] == PROVIDER and line["currency"] == "USD" for line in lines.values())
    assert all(line["net_amount"] == line["gross_amount"] - line["fee_amount"] for line in lines.values())
    assert all(line["payment_reference"] is None for line in lines.values())
    kinds = {(line["line_type"], line["fee_kind"]) for line in lines.values()}
    assert {("sale", None), ("refund", None), ("chargeback", None), ("fee", "commission"),
            ("fee", "withheld_tax"), ("fee", "subscription")} <= kinds
    payouts = query(sandbox["duckdb"], "select payout_id, payout_status, payout_date, stated_amount, currency "
                                       "from intermediate.int_amazon__payouts")
    deposits = {(d.payout_id, "paid", d.value_date, d.amount, d.currency)
                for d in world.deposits if d.provider == PROVIDER}
    assert len(deposits) == CONFIG.days
    assert set(payouts) == deposits
    assert {line["payout_id"] for line in lines.values()} == {payout[0] for payout in payouts}


def test_lines_add_up_to_their_payout_unless_rows_were_quarantined(sandbox, truth):
    rows = query(sandbox["duckdb"], """
        select payouts.payout_id
        from intermediate.int_amazon__payouts as payouts
        inner join (
            select payout_id, sum(net_amount) as lines_net
            from intermediate.int_amazon__settlement_lines
            group by payout_id
        ) as lines on payouts.payout_id = lines.payout_id
        where payouts.stated_amount <> lines.lines_net
    """)
    short = {e["reference_id"] for e in truth["exceptions"] if e["reason_code"] == "payout_total_mismatch"}
    assert {payout_id for (payout_id,) in rows} == short
    assert 0 < len(short) < CONFIG.days  # some payouts tie out, some do not


def test_every_line_is_matched_excepted_or_needs_no_match(sandbox, truth):
    lines = _lines(sandbox)
    matched: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for match in truth["matches"]:
        matched[match["settlement_line_id"]].add((match["counterpart_id"], match["match_rule"]))
    excepted = {e["reference_id"] for e in truth["exceptions"] if e["reference_type"] == "settlement_line"}
    for line_id, line in lines.items():
        if line["line_type"] in NEEDS_MATCH:
            assert line_id in matched or line_id in excepted, line
        else:
            assert line_id not in matched and line_id not in excepted, line
    assert set(matched) <= set(lines) and excepted <= set(lines)
    for line_id, counterparts in matched.items():
        # one counterpart per line: the order the line names
        assert {counterpart for counterpart, _ in counterparts} == {lines[line_id]["order_reference"]}
    # an order settled for another amount is one amount_mismatch: of its group, or of its only line
    short: dict[str, list[str]] = defaultdict(list)
    for match in truth["matches"]:
        if match["match_rule"] == "order_reference":
            line = lines[match["settlement_line_id"]]
            short[f"{PROVIDER}:{line['order_reference']}:{line['line_type']}"].append(match["settlement_line_id"])
    mismatches = {(e["reference_type"], e["reference_id"]) for e in truth["exceptions"]
                  if e["reason_code"] == "amount_mismatch"}
    assert mismatches == {("settlement_group", key) if len(ids) > 1 else ("settlement_line", ids[0])
                          for key, ids in short.items()}
    assert {kind for kind, _ in mismatches} == {"settlement_group", "settlement_line"}
    reasons = {e["reason_code"] for e in truth["exceptions"]}
    assert reasons == {"amount_mismatch", "chargeback", "refund_without_order", "payout_total_mismatch"}
    rules = {m["match_rule"] for m in truth["matches"]}
    assert rules == {"many_to_one", "order_reference_amount", "order_reference"}


def test_the_net_of_each_matched_order_group_is_the_truths_variance(sandbox, truth):
    """Σ gross of an order's lines of one kind less the order's amount (marts.orders) is the variance the truth
    gives every line of the group."""
    lines = _lines(sandbox)
    orders = {order_id: (Decimal(total), Decimal(refunded)) for order_id, total, refunded in query(
        sandbox["duckdb"], "select order_id, order_total, refunded_total from intermediate.int_amazon__orders")}
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for match in truth["matches"]:
        line = lines[match["settlement_line_id"]]
        groups[(match["counterpart_id"], line["line_type"])].append(match)
    for (order_id, kind), matches in groups.items():
        settled = sum(lines[m["settlement_line_id"]]["gross_amount"] for m in matches)
        total, refunded = orders[order_id]
        variance = settled - (total if kind == "sale" else -refunded)
        assert {Decimal(m["variance"]) for m in matches} == {variance}, (order_id, kind)


@pytest.fixture(scope="module")
def marts(sandbox):
    work = sandbox["work"] / "marts"
    run_dbt(["build", "--select", "+settlement_matches", "+reconciliation_exceptions", "+payouts"],
            Path(sandbox["duckdb"]), work)
    return sandbox["duckdb"]


def test_matches_equal_the_truth(marts, truth):
    rows = query(marts, "select settlement_line_id, counterpart_id, match_rule, variance "
                        f"from marts.settlement_matches where provider = '{PROVIDER}'")
    found = sorted((line_id, counterpart, rule, Decimal(variance)) for line_id, counterpart, rule, variance in rows)
    expected = sorted((m["settlement_line_id"], m["counterpart_id"], m["match_rule"], Decimal(m["variance"]))
                      for m in truth["matches"])
    assert found == expected


def test_exceptions_equal_the_truth(marts, truth):
    rows = query(marts, "select reason_code, reference_type, reference_id from marts.reconciliation_exceptions "
                        f"where provider = '{PROVIDER}' and reason_code not in {BANK_REASONS}")
    expected = sorted((e["reason_code"], e["reference_type"], e["reference_id"]) for e in truth["exceptions"])
    assert sorted(rows) == expected
