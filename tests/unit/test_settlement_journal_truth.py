"""The settlement journals' ground truth follows docs/postings.md from the simulation's own records."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from connectors.sandbox import settlement_journals
from connectors.sandbox.settlement_journals import settlement_journal_truth
from connectors.sandbox.simulator import SandboxConfig, simulate
from connectors.stripe.models import to_major

# Enough anomalies and malformed rows in five days for every status: deposits that differ and go missing,
# payouts short of a quarantined row, deposits still on their way.
CONFIG = SandboxConfig(seed=9, days=5, orders_per_day=20, anomaly_rate=0.3, malformed_rate=0.05)
PROVIDERS = {"shopify_payments", "stripe", "adyen", "amazon", "marketplace_bazaarly"}


@pytest.fixture(scope="module")
def sandbox():
    return simulate(CONFIG)


@pytest.fixture(scope="module")
def journals(sandbox):
    return {(j["provider"], j["payout_id"]): j for j in sandbox.ground_truth["settlement_journals_by_payout"]}


def _sum(journal) -> Decimal:
    return sum((Decimal(amount) for amount in journal["accounts"].values()), Decimal("0"))


def test_one_journal_per_paid_payout_of_every_provider(sandbox, journals):
    channels = sandbox.channels
    expected = {("shopify_payments", str(p["id"])) for p in channels["shopify_web"].store.payouts
                if p["status"] == "paid"}
    expected |= {("stripe", p["id"]) for p in channels["stripe"].payouts if p["status"] == "paid"}
    expected |= {("adyen", b.payout_id) for b in channels["adyen"].batches if b.payout is not None}
    expected |= {("amazon", s.settlement_id) for s in channels["amazon"].settlements
                 if any(not line.malformed for line in s.lines)}
    expected |= {("marketplace_bazaarly", s.settlement_id) for s in channels["marketplace"].settlements}
    assert set(journals) == expected
    assert {provider for provider, _ in journals} == PROVIDERS


def test_every_ready_journal_balances_and_balanced_means_sums_to_zero(journals):
    assert any(j["status"] == "ready" for j in journals.values())
    for journal in journals.values():
        assert journal["balanced"] == (_sum(journal) == 0)
        assert (journal["status"] == "ready") == (not journal["blocked_reasons"])
        assert journal["blocked_reasons"] == sorted(journal["blocked_reasons"])
        assert ("unbalanced" in journal["blocked_reasons"]) == (not journal["balanced"])
        if journal["status"] == "ready":
            assert journal["balanced"]
        assert all(Decimal(amount) != 0 and Decimal(amount) == Decimal(amount).quantize(Decimal("0.01"))
                   for amount in journal["accounts"].values())


def test_a_payout_with_a_quarantined_row_is_blocked_as_unbalanced(sandbox, journals):
    short = []
    for batch in sandbox.channels["adyen"].batches:
        if batch.payout is not None and sum((r.net for r in batch.rows if r.malformed), Decimal("0")):
            short.append(("adyen", batch.payout_id))
    for settlement in sandbox.channels["amazon"].settlements:
        if sum((line.amount for line in settlement.lines if line.malformed), Decimal("0")):
            short.append(("amazon", settlement.settlement_id))
    for settlement in sandbox.channels["marketplace"].settlements:
        if sum((row.amount for row in settlement.rows if row.malformed and row.line_type != "payout"), Decimal("0")):
            short.append(("marketplace_bazaarly", settlement.settlement_id))
    assert {provider for provider, _ in short} == {"adyen", "amazon", "marketplace_bazaarly"}
    for key in short:
        assert journals[key]["status"] == "blocked"
        assert "unbalanced" in journals[key]["blocked_reasons"]
    # and nothing else is unbalanced: the providers' own lines add up to what they pay
    assert {k for k, j in journals.items() if not j["balanced"]} == set(short)


def test_unbalanced_exactly_where_the_truth_expects_a_payout_total_mismatch(sandbox, journals):
    mismatched = {(e.provider, e.reference_id) for e in sandbox.world.expected_exceptions
                  if e.reason_code == "payout_total_mismatch"}
    assert mismatched
    assert {k for k, j in journals.items() if not j["balanced"]} == mismatched
    for key in mismatched:
        assert "open_blocking_exception" in journals[key]["blocked_reasons"]


def test_the_bank_line_is_the_stated_payout(sandbox, journals):
    channels = sandbox.channels
    stated = {("shopify_payments", str(p["id"])): Decimal(p["amount"]) for p in channels["shopify_web"].store.payouts}
    stated |= {("stripe", p["id"]): to_major(p["amount"], p["currency"]) for p in channels["stripe"].payouts}
    stated |= {("adyen", b.payout_id): b.payout for b in channels["adyen"].batches}
    stated |= {("amazon", s.settlement_id): s.total for s in channels["amazon"].settlements}
    stated |= {("marketplace_bazaarly", s.settlement_id): s.payout for s in channels["marketplace"].settlements}
    for key, journal in journals.items():
        assert Decimal(journal["accounts"].get("1010", "0")) == stated[key], key


def test_posting_dates_are_the_payout_dates_and_deposits_value_dates(sandbox, journals):
    for deposit in sandbox.world.deposits:
        journal = journals[(deposit.provider, deposit.payout_id)]
        assert journal["posting_date"] == deposit.value_date.isoformat()
        assert journal["currency"] == deposit.currency
    for payout in sandbox.channels["stripe"].payouts:
        if payout["status"] == "paid":
            arrival = datetime.fromtimestamp(payout["arrival_date"], timezone.utc).date()
            assert journals[("stripe", payout["id"])]["posting_date"] == arrival.isoformat()


def test_amazon_withheld_tax_goes_to_2200_and_its_fees_to_6170(sandbox, journals):
    for settlement in sandbox.channels["amazon"].settlements:
        loaded = [line for line in settlement.lines if not line.malformed]
        withheld = -sum((line.amount for line in loaded if line.amount_type == "ItemWithheldTax"), Decimal("0"))
        fees = -sum((line.amount for line in loaded if line.amount_type == "ItemFees"
                     or line.amount_description == "Subscription Fee"), Decimal("0"))
        accounts = journals[("amazon", settlement.settlement_id)]["accounts"]
        assert Decimal(accounts.get("2200", "0")) == withheld
        assert Decimal(accounts.get("6170", "0")) == fees
    assert any("2200" in j["accounts"] for k, j in journals.items() if k[0] == "amazon")


def test_adyen_chargeback_fees_go_to_6180_and_marketplace_labels_and_ads_to_theirs(sandbox, journals):
    chargebacks = 0
    for batch in sandbox.channels["adyen"].batches:
        if batch.payout is None:
            continue
        loaded = [row for row in batch.rows if not row.malformed and row.role == "chargeback"]
        chargebacks += len(loaded)
        accounts = journals[("adyen", batch.payout_id)]["accounts"]
        assert Decimal(accounts.get("6180", "0")) == Decimal("15.00") * len(loaded)
        assert Decimal(accounts.get("6195", "0")) == sum((cents_of(row) for row in loaded), Decimal("0"))
    assert chargebacks
    for settlement in sandbox.channels["marketplace"].settlements:
        loaded = [row for row in settlement.rows if not row.malformed]
        accounts = journals[("marketplace_bazaarly", settlement.settlement_id)]["accounts"]
        for line_type, code in (("shipping_fee", "6175"), ("advertising_fee", "6185"), ("commission", "6160")):
            expected = -sum((row.amount for row in loaded if row.line_type == line_type), Decimal("0"))
            assert Decimal(accounts.get(code, "0")) == expected, (settlement.settlement_id, line_type)


def cents_of(row) -> Decimal:
    """What a chargeback row takes back: its gross debit, booked as a debit of the chargebacks account."""
    return -row.gross


def test_deposit_reasons_come_from_the_bank_and_the_expected_exceptions(sandbox, journals):
    world, bank = sandbox.world, sandbox.channels["bank"]
    by_payout: dict[tuple[str, str], set[str]] = {}
    for e in world.expected_exceptions:
        if e.reference_type == "payout":
            by_payout.setdefault((e.provider, e.reference_id), set()).add(e.reason_code)
    differs = {k for k, reasons in by_payout.items() if reasons & {"deposit_different", "deposit_missing"}}
    assert differs
    for key, journal in journals.items():
        reasons = journal["blocked_reasons"]
        assert ("bank_differs_from_deposit" in reasons) == (key in differs)
        assert ("open_blocking_exception" in reasons) == (key in by_payout)
    pending = {(d.provider, d.payout_id) for d in bank.pending_deposits}
    assert pending
    for key in pending:
        if key not in differs:
            assert "awaiting_deposit" in journals[key]["blocked_reasons"]
    on_statement = {(e.deposit.provider, e.deposit.payout_id) for s in bank.statements for e in s.entries
                    if e.deposit is not None and not e.malformed}
    for key in on_statement:
        assert "awaiting_deposit" not in journals[key]["blocked_reasons"]


def test_a_fee_kind_without_an_account_of_its_own_goes_to_the_providers_fee_account():
    gl = settlement_journals._gl_map()
    lines = [("chargeback", "chargeback_fee", Decimal("-50.00"), Decimal("15.00")),
             ("sale", "processing", Decimal("100.00"), Decimal("3.20"))]
    stripe = settlement_journals._journal("stripe", "po_1", Decimal("31.80"), lines, gl)
    assert stripe == {"1010": Decimal("31.80"), "6150": Decimal("18.20"), "6195": Decimal("50.00"),
                      "1160": Decimal("-100.00")}
    adyen = settlement_journals._journal("adyen", "b1", Decimal("31.80"), lines, gl)
    assert adyen["6180"] == Decimal("15.00") and adyen["6150"] == Decimal("3.20")
    assert sum(adyen.values()) == 0


def test_amazon_rows_are_classified_as_the_models_classify_them():
    def row(transaction_type, order_id, amount_type, description, amount):
        return SimpleNamespace(transaction_type=transaction_type, order_id=order_id, amount_type=amount_type,
                               amount_description=description, amount=Decimal(amount))

    line = settlement_journals._amazon_line
    assert line(row("Order", "111-1", "ItemPrice", "Principal", "20.00")) == ("sale", None, Decimal("20.00"), 0)
    assert line(row("Order", "111-1", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", "-1.78")) == \
        ("fee", "withheld_tax", 0, Decimal("1.78"))
    assert line(row("Refund", "111-1", "ItemFees", "RefundCommission", "-0.60"))[:2] == ("fee", "commission")
    assert line(row("Chargeback Refund", "111-1", "ItemPrice", "Principal", "-20.00"))[0] == "chargeback"
    assert line(row("other-transaction", "", "other-transaction", "Subscription Fee", "-39.99")) == \
        ("fee", "subscription", 0, Decimal("39.99"))
    assert line(row("other-transaction", "", "other-transaction", "Reimbursement", "12.00")) == \
        ("adjustment", None, Decimal("12.00"), 0)


def test_deterministic_and_json_friendly(sandbox):
    again = simulate(CONFIG)
    first = sandbox.ground_truth["settlement_journals_by_payout"]
    assert json.dumps(first) == json.dumps(again.ground_truth["settlement_journals_by_payout"])
    assert first == settlement_journal_truth(sandbox.world, sandbox.channels)
    assert len({(j["provider"], j["payout_id"]) for j in first}) == len(first)


def test_without_anomalies_or_malformed_rows_every_settled_payout_is_ready_or_awaiting_its_deposit():
    quiet = simulate(SandboxConfig(seed=3, days=4, orders_per_day=20, anomaly_rate=0.0, malformed_rate=0.0))
    journals = quiet.ground_truth["settlement_journals_by_payout"]
    assert {j["provider"] for j in journals} == PROVIDERS
    assert all(j["balanced"] for j in journals)
    assert Counter(r for j in journals for r in j["blocked_reasons"]).keys() <= {"awaiting_deposit"}
