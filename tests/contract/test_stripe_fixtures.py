"""Contract: Stripe's own payloads validate with connectors/stripe/models.py and flatten to raw rows.

Read in place from ../shared/vendor-fixtures/stripe (or $OMNIRECON_VENDOR_FIXTURES/stripe):
- fixtures3_subset.json: objects from stripe/openapi's fixtures3.json (the API reference examples);
- balance_transaction_enums.json: balance_transaction.type and reporting_category values of API
  2023-08-16 and of the current SDK (they drift: the models keep them open strings);
- reports-wikimedia-smashpig/*.csv: itemized payout reconciliation / settlement report exports
  (Wikimedia SmashPig's test files), columns in different orders per file.
"""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from connectors.stripe import models, raw_tables
from connectors.stripe.payout_reconciliation_report import (ReportFormatError, parse_report,
                                                             parse_report_text)
from tests.vendor_fixtures import vendor_fixture

STRIPE_FIXTURES = vendor_fixture("stripe")

RESOURCES = json.loads((STRIPE_FIXTURES / "fixtures3_subset.json").read_text())["resources"]
ENUMS = json.loads((STRIPE_FIXTURES / "balance_transaction_enums.json").read_text())
REPORTS = sorted((STRIPE_FIXTURES / "reports-wikimedia-smashpig").glob("*.csv"))

# Stripe object name -> (model, raw stream)
KINDS = {"balance_transaction": (models.BalanceTransaction, "balance_transactions"),
         "payout": (models.Payout, "payouts"), "charge": (models.Charge, "charges"),
         "refund": (models.Refund, "refunds"), "dispute": (models.Dispute, "disputes")}


def _objects():
    """(label, kind, payload) of every object of a kind we model, embedded ones included."""
    found = []

    def walk(label: str, value):
        if isinstance(value, dict):
            if isinstance(value.get("object"), str) and value["object"] in KINDS and "id" in value:
                found.append((label, value["object"], value))
            for key, child in value.items():
                walk(f"{label}.{key}", child)
        elif isinstance(value, list):
            for i, child in enumerate(value):
                walk(f"{label}[{i}]", child)

    for name, resource in RESOURCES.items():
        walk(name, resource)
    return found


OBJECTS = _objects()


def test_the_fixtures_hold_every_kind_we_model():
    assert {kind for _, kind, _ in OBJECTS} == set(KINDS)


@pytest.mark.parametrize("kind, payload", [pytest.param(k, p, id=label) for label, k, p in OBJECTS])
def test_every_object_validates_and_flattens(kind, payload):
    model, stream = KINDS[kind]
    record = model.model_validate(payload)
    rows = raw_tables.flatten(stream, payload)
    table_rows = rows[stream]
    assert len(table_rows) == 1 and table_rows[0]["id"] == payload["id"]
    for table, table_rows in rows.items():
        columns = raw_tables.RAW_TABLES[table]
        for row in table_rows:
            assert list(row) == list(columns)
            for column, sql_type in columns.items():
                value = row[column]
                if value is None:
                    continue
                if sql_type == "bigint":
                    assert type(value) is int, (table, column)
                elif sql_type == "timestamptz":
                    assert isinstance(value, datetime) and value.utcoffset().total_seconds() == 0, (table, column)
                elif sql_type == "boolean":
                    assert isinstance(value, bool), (table, column)
                else:
                    assert isinstance(value, str), (table, column)
    assert record.created == datetime.fromtimestamp(payload["created"], tz=timezone.utc)
    assert record.amount_major == Decimal(payload["amount"]) / 100  # all fixtures are usd


def test_fixture_values_are_read_exactly():
    txn = models.BalanceTransaction.model_validate(RESOURCES["balance_transaction"])
    assert (txn.id, txn.type, txn.reporting_category, txn.status) == ("txn_1PgaxNB7WZ01zgkWEV3TLf40", "charge",
                                                                      "charge", "available")
    assert (txn.amount, txn.fee, txn.net, txn.amount_major) == (100, 0, 100, Decimal("1.00"))
    assert txn.amount - txn.fee == txn.net
    assert txn.created == datetime(2009, 2, 13, 23, 31, 30, tzinfo=timezone.utc)
    payout = models.Payout.model_validate(RESOURCES["payout"])
    assert (payout.amount, payout.amount_major, payout.status) == (1100, Decimal("11.00"), "in_transit")
    assert payout.balance_transaction == "txn_1PgaxNB7WZ01zgkWEV3TLf40"
    dispute = models.Dispute.model_validate(RESOURCES["dispute"])
    assert dispute.charge == "ch_1PgafuB7WZ01zgkWXYmPNZs8" and dispute.balance_transactions == []
    assert dispute.evidence_details.due_by == datetime.fromtimestamp(1723679999, tz=timezone.utc)
    refund = models.Refund.model_validate(RESOURCES["refund"])
    assert refund.balance_transaction is None and refund.charge == "ch_1PgafuB7WZ01zgkWXYmPNZs8"
    row = raw_tables.flatten("charges", RESOURCES["charge"])["charges"][0]
    assert (row["currency"], row["amount"], row["balance_transaction"]) == ("USD", 100, "txn_1PgaxNB7WZ01zgkWEV3TLf40")


def test_expanded_references_are_normalised_to_their_id():
    refund = copy.deepcopy(RESOURCES["refund"])
    refund["charge"] = copy.deepcopy(RESOURCES["charge"])  # ?expand[]=charge
    refund["balance_transaction"] = copy.deepcopy(RESOURCES["balance_transaction"])
    record = models.Refund.model_validate(refund)
    assert record.charge == RESOURCES["charge"]["id"]
    assert record.balance_transaction == RESOURCES["balance_transaction"]["id"]
    dispute = copy.deepcopy(RESOURCES["dispute"])
    dispute["balance_transactions"] = [RESOURCES["balance_transaction"]]
    rows = raw_tables.flatten("disputes", dispute)
    assert [r["balance_transaction_id"] for r in rows["dispute_balance_transactions"]] == [
        RESOURCES["balance_transaction"]["id"]]


def _enum_values(prefix: str) -> set[str]:
    return {value for key, values in ENUMS.items() if key.startswith(prefix) and isinstance(values, list)
            for value in values}


@pytest.mark.parametrize("type_", sorted(_enum_values("balance_transaction.type.")))
def test_every_listed_balance_transaction_type_is_accepted(type_):
    txn = models.BalanceTransaction.model_validate({**RESOURCES["balance_transaction"], "type": type_})
    assert txn.type == type_ and type_ in models.KNOWN_BALANCE_TRANSACTION_TYPES


def test_reporting_categories_fee_types_statuses_and_new_values_are_accepted():
    categories = _enum_values("balance_transaction.reporting_category.")
    assert {"charge", "refund", "dispute", "payout", "fee"} <= categories
    base = RESOURCES["balance_transaction"]
    for category in sorted(categories) + ["brand_new_category_2027"]:
        assert models.BalanceTransaction.model_validate({**base, "reporting_category": category}).reporting_category \
            == category
    for status in ENUMS["balance_transaction.status"]:
        assert models.BalanceTransaction.model_validate({**base, "status": status}).status == status
    fee_details = [{"amount": 30, "currency": "usd", "type": t, "description": None, "application": None}
                   for t in ENUMS["balance_transaction.fee_details.type"]]
    txn = models.BalanceTransaction.model_validate({**base, "fee": 30 * len(fee_details), "net": 100 - 30 * len(
        fee_details), "fee_details": fee_details, "type": "a_type_from_a_future_api_version"})
    assert sum(f.amount for f in txn.fee_details) == txn.fee and txn.type == "a_type_from_a_future_api_version"


def test_zero_and_three_decimal_currencies_use_their_exponent():
    base = RESOURCES["balance_transaction"]
    jpy = models.BalanceTransaction.model_validate({**base, "currency": "jpy", "amount": 1500, "fee": 54, "net": 1446})
    assert (jpy.amount_major, jpy.fee_major, jpy.net_major) == (Decimal("1500"), Decimal("54"), Decimal("1446"))
    kwd = models.BalanceTransaction.model_validate({**base, "currency": "KWD", "amount": 1230})
    assert kwd.currency == "kwd" and kwd.amount_major == Decimal("1.230")
    assert models.to_minor(Decimal("10.99"), "usd") == 1099 and models.to_minor(Decimal("1500"), "jpy") == 1500
    with pytest.raises(ValueError):
        models.to_minor(Decimal("10.5"), "jpy")


@pytest.mark.parametrize("change, bad_field", [
    ({"amount": 1.5}, "amount"), ({"amount": "100"}, "amount"), ({"created": "2009-02-13"}, "created"),
    ({"currency": "dollars"}, "currency"), ({"source": {"object": "charge"}}, "source"),
])
def test_bad_payloads_raise_validation_errors(change, bad_field):
    with pytest.raises(ValidationError) as refused:
        raw_tables.flatten("balance_transactions", {**RESOURCES["balance_transaction"], **change})
    assert {e["loc"][0] for e in refused.value.errors()} == {bad_field}


def test_missing_required_fields_are_refused():
    payload = {k: v for k, v in RESOURCES["payout"].items() if k != "amount"}
    with pytest.raises(ValidationError):
        raw_tables.flatten("payouts", payload)


# ---- itemized payout reconciliation reports -----------------------------------------------------

# Lines of the fixture reports that must be quarantined, and why.
EXPECTED_QUARANTINE = {"settlement_report.csv": {8: "net 23.05 is not gross 24 minus fee 0"}}


def test_the_report_fixtures_are_there():
    assert len(REPORTS) >= 4


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.name)
def test_every_report_parses_by_header_name(path):
    result = parse_report(path)
    lines = len(path.read_text().splitlines()) - 1
    assert len(result.rows) + len(result.quarantined) == lines  # nothing lost silently
    assert {q.line_number: q.reason for q in result.quarantined} == EXPECTED_QUARANTINE.get(path.name, {})
    assert result.rows
    for row in result.rows:
        assert row.gross - row.fee == row.net and row.gross_minor - row.fee_minor == row.net_minor
        assert row.net_minor == int(row.net * 100) and row.currency == "USD"
        assert row.created.tzinfo == timezone.utc and row.balance_transaction_id.startswith("txn_")


def test_report_values_are_exact_whatever_the_column_order():
    activity = {r.balance_transaction_id: r for r in parse_report(STRIPE_FIXTURES / "reports-wikimedia-smashpig"
                                                                  / "payments_activity.csv").rows}
    dispute = activity["txn_102"]
    assert (dispute.gross, dispute.fee, dispute.net) == (Decimal("-30.00"), Decimal("15.00"), Decimal("-45.00"))
    assert (dispute.reporting_category, dispute.source_id, dispute.automatic_payout_id) == ("dispute", "dp_bbb",
                                                                                             "po_def")
    assert dispute.metadata == {"external_identifier": "24315.2"}
    assert dispute.automatic_payout_effective_at == datetime(2026, 2, 4, tzinfo=timezone.utc)
    settlement = {r.balance_transaction_id: r for r in parse_report(STRIPE_FIXTURES / "reports-wikimedia-smashpig"
                                                                    / "settlement_report.csv").rows}
    charge = settlement["txn_001"]
    assert (charge.gross, charge.fee, charge.net, charge.net_minor) == (Decimal("25"), Decimal("0.95"),
                                                                        Decimal("24.05"), 2405)
    assert charge.created == datetime(2026, 1, 30, 10, 11, 12, tzinfo=timezone.utc)
    reversal = settlement["txn_1Tj9xrJ"]  # lower-case currency, no payout id, no gateway account
    assert (reversal.currency, reversal.automatic_payout_id, reversal.reporting_category) == ("USD", None,
                                                                                               "dispute_reversal")
    assert settlement["txn_fee_01"].description == "Card payments (2026-03-24): Transaction network costs"


def test_bad_report_lines_are_quarantined_with_reasons_and_the_rest_goes_on():
    text = ("net,fee,gross,currency,created,reporting_category,balance_transaction_id\n"
            "9.41,0.59,10.00,usd,2026-03-01 10:00:00,charge,txn_ok\n"
            "x,0,1,usd,2026-03-01 10:00:00,charge,txn_bad_amount\n"
            "1,0,1,usd,yesterday,charge,txn_bad_time\n"
            "1,0,1,dollars,2026-03-01 10:00:00,charge,txn_bad_currency\n"
            "1,0,1,usd,2026-03-01 10:00:00,charge,\n"
            "1.5,0,1.5,jpy,2026-03-01 10:00:00,charge,txn_half_yen\n"
            "1,0,1,usd,2026-03-01 10:00:00\n"
            "9.41,0.59,10.00,usd,2026-03-01 10:00:00,charge,txn_ok\n"
            "\n")
    result = parse_report_text(text)
    assert [r.balance_transaction_id for r in result.rows] == ["txn_ok"]
    assert result.rows[0].net_minor == 941
    reasons = {q.line_number: q.reason for q in result.quarantined}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9]
    assert "not a decimal" in reasons[3] and "not a time" in reasons[4] and "three-letter" in reasons[5]
    assert "balance_transaction_id is empty" in reasons[6] and "JPY" in reasons[7]
    assert "fields where the header has" in reasons[8] and "repeats line 2" in reasons[9]


def test_a_report_without_required_columns_is_refused():
    with pytest.raises(ReportFormatError, match="gross"):
        parse_report_text("balance_transaction_id,created,currency,fee,net,reporting_category\n")
