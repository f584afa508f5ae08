"""The settlement journals' ground truth follows docs/postings.md from the simulation's own records."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from connectors.sandbox import settlement_journals
from connectors.sandbox.settlement_journals import settlement_journal_truth
from connectors.sandbox.simulator import SandboxConfig, simulate
from connectors.stripe.models import to_major

# Enough anomalies and malformed rows in five days for every status: deposits that differ and go missing,
# payouts short of a quarantined row, deposits still on their way.
CONFIG = SandboxConfig(seed=9, days=5, orders_per_day=20, anomaly_rate=0.3, malformed_rate=0.05)
PROVIDERS = {"shopify_payments", "stripe", "adyen", "amazon", "marketplace_bazaarly"}
# A window across the October month end, so payouts dated in November settle lines posted in October.
MONTH_END = SandboxConfig(start_date=date(2026, 10, 29), days=5, orders_per_day=10)
ROLL_FORWARD = "1198"


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


# ---- payouts that span a month end ------------------------------------------------------------------

@pytest.fixture(scope="module")
def month_end():
    return simulate(MONTH_END)


@pytest.fixture(scope="module")
def batches_of(month_end):
    """(provider, payout_id) -> the payout's batches, earliest first."""
    batches: dict[tuple[str, str], list[dict]] = {}
    for journal in month_end.ground_truth["settlement_journals_by_payout"]:
        batches.setdefault((journal["provider"], journal["payout_id"]), []).append(journal)
    return {key: sorted(found, key=lambda j: j["posting_date"]) for key, found in batches.items()}


def _unsplit(sandbox) -> dict[tuple[str, str], dict[str, Decimal]]:
    """Every payout's journal as one batch (the journal before periods were split), dates left out."""
    channels, gl = sandbox.channels, settlement_journals._gl_map()
    payouts = {"shopify_payments": settlement_journals._shopify(channels["shopify_web"]),
               "stripe": settlement_journals._stripe(channels["stripe"]),
               "adyen": settlement_journals._adyen(channels["adyen"]),
               "amazon": settlement_journals._amazon(channels["amazon"]),
               "marketplace_bazaarly": settlement_journals._marketplace(channels["marketplace"],
                                                                        ZoneInfo("America/New_York"))}
    return {(provider, str(payout_id)): settlement_journals._journal(provider, payout_id, stated,
                                                                     [line for _, line in lines], gl)
            for provider, found in payouts.items() for payout_id, _, _, stated, lines in found}


def _accounts(journal, without=()) -> dict[str, Decimal]:
    return {code: Decimal(amount) for code, amount in journal["accounts"].items() if code not in without}


def test_payouts_across_the_month_end_split_by_period(batches_of):
    split = {key: batches for key, batches in batches_of.items() if len(batches) > 1}
    assert {provider for provider, _ in split} == PROVIDERS
    for key, batches in batches_of.items():
        *earlier, payout = batches
        assert len({(j["status"], tuple(j["blocked_reasons"])) for j in batches}) == 1, key  # the payout's
        if not earlier:
            assert ROLL_FORWARD not in payout["accounts"], key  # within one month: as it always was
            continue
        for batch in earlier:
            day = date.fromisoformat(batch["posting_date"])
            assert (day + timedelta(days=1)).day == 1, key  # the last day of its month
            assert (day.year, day.month) < (date.fromisoformat(payout["posting_date"]).year,
                                            date.fromisoformat(payout["posting_date"]).month)
            assert "1010" not in batch["accounts"]
            assert Decimal(batch["accounts"][ROLL_FORWARD]) == -sum(_accounts(batch, (ROLL_FORWARD,)).values())
            assert batch["balanced"]
        assert sum(Decimal(j["accounts"].get(ROLL_FORWARD, "0")) for j in batches) == 0, key
        assert len({j["posting_date"] for j in batches}) == len(batches)


def test_only_the_payouts_own_batch_is_off_when_the_payout_is_unbalanced(month_end, batches_of):
    mismatched = {(e.provider, e.reference_id) for e in month_end.world.expected_exceptions
                  if e.reason_code == "payout_total_mismatch"}
    assert any(key in mismatched for key, batches in batches_of.items() if len(batches) > 1)
    for key, batches in batches_of.items():
        *earlier, payout = batches
        assert all(batch["balanced"] for batch in earlier)
        assert payout["balanced"] == (key not in mismatched) == ("unbalanced" not in payout["blocked_reasons"])
        whole = sum(Decimal(amount) for j in batches for amount in j["accounts"].values())
        assert (whole == 0) == payout["balanced"]


def test_a_split_payouts_batches_add_up_to_the_unsplit_journal(month_end, batches_of):
    unsplit = _unsplit(month_end)
    assert set(unsplit) == set(batches_of)
    for key, batches in batches_of.items():
        together: Counter = Counter()
        for batch in batches:
            together.update(_accounts(batch, (ROLL_FORWARD,)))
        assert {code: amount for code, amount in together.items() if amount} == \
            {code: amount for code, amount in unsplit[key].items() if amount}, key


def test_the_earlier_batch_holds_the_lines_posted_in_its_month_in_new_york(month_end, batches_of):
    # Adyen books the 31 October batch at 21:00 New York, already 1 November in UTC: all of it is October's.
    batch = next(b for b in month_end.channels["adyen"].batches if b.business_day == date(2026, 10, 31))
    october, payout = batches_of[("adyen", batch.payout_id)]
    assert october["posting_date"] == "2026-10-31" and payout["posting_date"] == "2026-11-01"
    sales = [row for row in batch.rows if not row.malformed and row.role in ("sale", "keyed_sale", "refund",
                                                                             "unrecorded_sale")]
    assert Decimal(october["accounts"]["1170"]) == -sum((row.gross for row in sales), Decimal("0"))
    assert set(payout["accounts"]) == {"1010", ROLL_FORWARD}
    # Stripe: each balance transaction in the month it was created, New York time
    zone = ZoneInfo("America/New_York")
    stripe = month_end.channels["stripe"]
    for (provider, payout_id), batches in batches_of.items():
        if provider != "stripe" or len(batches) == 1:
            continue
        october_sales = sum((to_major(t["amount"], t["currency"]) for t in stripe.balance_transactions
                             if stripe.payout_of.get(t["id"]) == payout_id and t["type"] == "charge"
                             and datetime.fromtimestamp(t["created"], zone).month == 10), Decimal("0"))
        assert october_sales and Decimal(batches[0]["accounts"]["1160"]) == -october_sales


def test_a_payout_is_split_into_one_batch_per_earlier_month():
    """Lines of September and October in a payout of 3 November, one of December (stays with the payout)."""
    gl = settlement_journals._gl_map()
    zone = ZoneInfo("America/New_York")

    def at(text):
        return datetime.fromisoformat(text)

    lines = [(at("2026-09-30T23:30:00-04:00"), ("sale", "processing", Decimal("100.00"), Decimal("3.00"))),
             (at("2026-11-01T03:30:00+00:00"), ("sale", "processing", Decimal("50.00"), Decimal("1.50"))),  # Oct NY
             (at("2026-11-02T10:00:00-05:00"), ("refund", None, Decimal("-20.00"), Decimal("0"))),
             (at("2026-12-01T09:00:00-05:00"), ("adjustment", None, Decimal("5.00"), Decimal("0")))]
    stated = Decimal("130.50")
    batches = settlement_journals._batches("stripe", "po_1", date(2026, 11, 3), stated, lines, gl, zone)
    assert batches == [
        (date(2026, 9, 30), {"6150": Decimal("3.00"), "1160": Decimal("-100.00"), ROLL_FORWARD: Decimal("97.00")}),
        (date(2026, 10, 31), {"6150": Decimal("1.50"), "1160": Decimal("-50.00"), ROLL_FORWARD: Decimal("48.50")}),
        (date(2026, 11, 3), {"1160": Decimal("20.00"), "6190": Decimal("-5.00"), "1010": stated,
                             ROLL_FORWARD: Decimal("-145.50")}),
    ]
    assert all(sum(sums.values()) == 0 for _, sums in batches)
    # a payout short of a line: only its own batch is off, by what is missing
    short = settlement_journals._batches("stripe", "po_1", date(2026, 11, 3), stated + 1, lines, gl, zone)
    assert [sum(sums.values()) for _, sums in short] == [0, 0, 1]
    # all in the payout's month: one batch, no roll-forward
    same_month = settlement_journals._batches("stripe", "po_1", date(2026, 11, 3), Decimal("-15.00"),
                                              lines[2:], gl, zone)
    assert same_month == [(date(2026, 11, 3), {"1160": Decimal("20.00"), "6190": Decimal("-5.00"),
                                               "1010": Decimal("-15.00")})]
