"""Stripe, the PSP of the web shop's Stripe-paid orders: charges, refunds, disputes and daily payouts.

The web shop sends a share of its orders through Stripe (world.card_payments with psp "stripe":
merchant_reference is the Shopify order name, order_id the Shopify order id, psp_reference the
charge id). From them this builds the Stripe account as its API would serve it:

- a captured charge per capture (metadata order_id / order_name: how Stripe links back to Shopify),
  with a `charge` balance transaction bearing Stripe's standard US card fee, 2.9% + 30 cents,
  computed in integer cents (half up). At world.anomaly_rate the card is international and Stripe
  bills 3.9% + 30 cents instead: a fee the fee schedule (seeds/fee_schedules.csv) does not expect;
- a refund per refund (no fee: Stripe keeps the original fee), with a `refund` balance transaction.
  A refund whose charge is not in the account cannot exist in Stripe: it is left out and listed
  in `refunds_without_charge`;
- now and then a dispute on an unrefunded charge, a few days later (only if it falls inside the
  window): its `adjustment` balance transaction withdraws the disputed amount plus the 15.00 fee;
- automatic daily payouts on the account's time zone (America/New_York): the balance
  transactions of local day d are paid out in a payout arriving on d+2 (every calendar day, no
  banking-day calendar). A day whose activity nets to zero or less pays nothing; its transactions
  roll into the next payout, as Stripe nets a negative balance against later activity. The payout
  lists its own `payout` balance transaction (amount -net), as Stripe's ?payout= listing does.

Payouts arriving inside the window are `paid` and reach the bank (world.deposits, statement text
"STRIPE TRANSFER <po id>"); those arriving later stay `in_transit` (already created) or `pending`
(created at the end of the window) and are served all the same, their transactions `pending`.

Reconciliation truth: every balance transaction of a payout the pulls land is a settlement line
naming its source; it matches its charge, refund or dispute withdrawal (the chargeback event's id is
the withdrawal's balance transaction id) by exact_reference, with no variance: Stripe settles exactly
what it captured. A dispute's line is a chargeback exception, an international card's charge line a
fee_mismatch. A charge in no landed payout although its business date is settle-within days before
the latest payout's arrival is captured_not_settled: Stripe held it back, its day's balance being
negative. Stripe's API serves validated objects, so no line is lost to quarantine.

Ground truth (world.records["stripe"]) counts what pulling every business day of the window
with connectors/stripe/daily_pull.py lands: charges, refunds and disputes created in the window,
payouts arriving in the window and their balance transactions, and the disputes' transactions.
The canonical payments truth (world.tally("payments", "stripe", ...)) counts the same objects as
payment events: every charge a capture, every refund, every dispute transaction, every payout.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from random import Random
from zoneinfo import ZoneInfo

from connectors.sandbox.stripe_api import StripeStore
from connectors.sandbox.world import CardPayment, Deposit, World
from connectors.stripe.models import to_major, to_minor

PSP = "stripe"
CHANNEL = "shopify_web"  # the sales channel whose checkout charges through this account (var stripe_channel_id)
ACCOUNT_TIME_ZONE = "America/New_York"
FEE_PERCENT_TENTHS = 29  # 2.9% in tenths of a percent, so the fee stays integer arithmetic
INTERNATIONAL_FEE_PERCENT_TENTHS = 39  # a card issued outside the US
INTERNATIONAL_CARD_COUNTRIES = ("GB", "CA", "DE", "FR", "AU", "MX")
FEE_FIXED_CENTS = 30
DISPUTE_FEE_CENTS = 1500
DISPUTE_RATE = 0.04
PAYOUT_DELAY_DAYS = 2
# After how many days a capture must be in a payout (seeds/settlement_providers.csv settle_within_days).
SETTLE_WITHIN_DAYS = PAYOUT_DELAY_DAYS
DISPUTE_REASONS = ("fraudulent", "product_not_received", "duplicate", "subscription_canceled")
_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass
class StripeSandbox(StripeStore):
    """The account as FakeStripeAPI serves it (a StripeStore), plus what the simulation knows."""

    account_time_zone: str = ACCOUNT_TIME_ZONE
    refunds_without_charge: list[CardPayment] = field(default_factory=list)
    international_charges: set[str] = field(default_factory=set)  # charge ids billed the international fee


def card_fee_cents(amount_cents: int, percent_tenths: int = FEE_PERCENT_TENTHS) -> int:
    """Stripe's US card pricing, 2.9% + 30c by default, rounded half up to the cent."""
    return (amount_cents * percent_tenths + 500) // 1000 + FEE_FIXED_CENTS


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


class _Simulation:
    def __init__(self, world: World, dispute_rate: float):
        self.world = world
        self.rng: Random = world.rng(PSP)
        # anomalies draw from a stream of their own, so the account's ids and disputes stay put
        self.anomaly_rng: Random = world.rng(f"{PSP}:anomalies")
        self.dispute_rate = dispute_rate
        self.zone = ZoneInfo(ACCOUNT_TIME_ZONE)
        self.currency = world.currency.lower()
        self.window_end = datetime.combine(world.end_date, time(0), tzinfo=self.zone)
        self.sandbox = StripeSandbox()
        self.activity: list[dict] = []  # balance transactions awaiting a payout

    def id(self, prefix: str) -> str:
        return prefix + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(24))

    def local_day(self, unix_seconds: int) -> date:
        return datetime.fromtimestamp(unix_seconds, self.zone).date()

    def balance_transaction(self, kind: str, category: str, source: str, created: int, amount: int, fee: int,
                            description: str | None, fee_description: str = "Stripe processing fees") -> dict:
        return {
            "id": self.id("txn_"), "object": "balance_transaction", "amount": amount, "currency": self.currency,
            "fee": fee, "net": amount - fee, "type": kind, "reporting_category": category, "source": source,
            "created": created, "available_on": created, "status": "pending", "description": description,
            "exchange_rate": None, "balance_type": "payments",
            "fee_details": [{"amount": fee, "currency": self.currency, "type": "stripe_fee",
                             "description": fee_description, "application": None}] if fee else [],
        }

    # ---- payments --------------------------------------------------------------------------
    def run(self) -> StripeSandbox:
        payments = sorted((p for p in self.world.card_payments if p.psp == PSP),
                          key=lambda p: (p.at, p.kind != "capture", p.psp_reference, p.merchant_reference))
        charges: dict[str, dict] = {}
        for payment in payments:
            if payment.kind == "capture":
                charges[payment.psp_reference] = self.charge(payment)
            elif payment.kind == "refund":
                charge = charges.get(payment.psp_reference)
                refundable = charge["amount"] - charge["amount_refunded"] if charge else 0
                if to_minor(payment.amount, self.currency) > refundable:
                    self.sandbox.refunds_without_charge.append(payment)
                    continue
                self.refund(charge, payment)
            else:
                raise ValueError(f"unknown card payment kind {payment.kind!r}")
        for charge in charges.values():
            # drawn for every charge, so the dispute stream does not shift with refunds
            roll, delay_hours = self.rng.random(), self.rng.randint(30, 90)
            if roll < self.dispute_rate and charge["amount_refunded"] == 0:
                self.dispute(charge, charge["created"] + delay_hours * 3600)
        self.payouts()
        self.register_ground_truth()
        return self.sandbox

    def charge(self, payment: CardPayment) -> dict:
        amount = to_minor(payment.amount, self.currency)
        created = _unix(payment.at)
        charge_id = payment.psp_reference
        country, fee_rate = "US", FEE_PERCENT_TENTHS
        if self.anomaly_rng.random() < self.world.anomaly_rate:
            country, fee_rate = self.anomaly_rng.choice(INTERNATIONAL_CARD_COUNTRIES), INTERNATIONAL_FEE_PERCENT_TENTHS
            self.sandbox.international_charges.add(charge_id)
        txn = self.balance_transaction("charge", "charge", charge_id, created, amount, card_fee_cents(amount, fee_rate),
                                       f"Shopify order {payment.merchant_reference}")
        charge = {
            "id": charge_id, "object": "charge", "amount": amount, "amount_captured": amount, "amount_refunded": 0,
            "currency": self.currency, "status": "succeeded", "captured": True, "paid": True, "refunded": False,
            "disputed": False, "created": created, "balance_transaction": txn["id"],
            "failure_balance_transaction": None, "failure_code": None, "customer": None,
            "payment_intent": self.id("pi_"), "payment_method": self.id("pm_"),
            "payment_method_details": {"type": "card", "card": {"brand": "visa", "country": country}},
            "description": f"Shopify order {payment.merchant_reference}", "livemode": False,
            "metadata": {"order_id": str(payment.order_id), "order_name": payment.merchant_reference},
        }
        self.sandbox.charges.append(charge)
        self.activity.append(txn)
        return charge

    def refund(self, charge: dict, payment: CardPayment) -> None:
        amount = to_minor(payment.amount, self.currency)
        created = _unix(payment.at)
        refund_id = self.id("re_")
        txn = self.balance_transaction("refund", "refund", refund_id, created, -amount, 0,
                                       f"REFUND FOR CHARGE ({charge['description']})")
        self.sandbox.refunds.append({
            "id": refund_id, "object": "refund", "amount": amount, "currency": self.currency,
            "charge": charge["id"], "payment_intent": charge["payment_intent"], "balance_transaction": txn["id"],
            "failure_balance_transaction": None, "failure_reason": None, "created": created,
            "reason": "requested_by_customer", "status": "succeeded",
            "metadata": {"order_id": charge["metadata"]["order_id"]},
        })
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self.activity.append(txn)

    def dispute(self, charge: dict, created: int) -> None:
        if created >= _unix(self.window_end):
            return  # the cardholder has not disputed yet when the window ends
        dispute_id = self.id("dp_")
        amount = charge["amount"]
        txn = self.balance_transaction("adjustment", "dispute", dispute_id, created, -amount, DISPUTE_FEE_CENTS,
                                       f"Chargeback withdrawal for {charge['id']}", "Dispute fee")
        self.sandbox.disputes.append({
            "id": dispute_id, "object": "dispute", "amount": amount, "currency": self.currency,
            "charge": charge["id"], "payment_intent": charge["payment_intent"], "created": created,
            "status": "needs_response", "reason": self.rng.choice(DISPUTE_REASONS), "is_charge_refundable": False,
            "livemode": False, "metadata": {},
            "evidence_details": {"due_by": created + 7 * 86_400, "has_evidence": False, "past_due": False,
                                 "submission_count": 0},
            "balance_transactions": [txn],
        })
        charge["disputed"] = True
        self.activity.append(txn)

    # ---- payouts ---------------------------------------------------------------------------
    def payouts(self) -> None:
        by_day: dict[date, list[dict]] = {}
        for txn in self.activity:
            by_day.setdefault(self.local_day(txn["created"]), []).append(txn)
        carried: list[dict] = []
        for day in sorted(by_day):
            batch = carried + sorted(by_day[day], key=lambda t: (t["created"], t["id"]))
            if sum(t["net"] for t in batch) <= 0:
                carried = batch
                continue
            carried = []
            self.payout(day, batch)

    def payout(self, day: date, batch: list[dict]) -> None:
        arrival = day + timedelta(days=PAYOUT_DELAY_DAYS)
        created = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        if arrival < self.world.end_date:
            status = "paid"
        elif created < self.window_end:
            status = "in_transit"
        else:
            status = "pending"
        amount = sum(t["net"] for t in batch)
        payout_id = self.id("po_")
        own = self.balance_transaction("payout", "payout", payout_id, _unix(created), -amount, 0,
                                       "STRIPE PAYOUT")
        for txn in [*batch, own]:
            txn["available_on"] = _unix(created)
            txn["status"] = "pending" if status == "pending" else "available"
            self.sandbox.balance_transactions.append(txn)
            self.sandbox.payout_of[txn["id"]] = payout_id
        self.sandbox.payouts.append({
            "id": payout_id, "object": "payout", "amount": amount, "currency": self.currency,
            "arrival_date": _unix(datetime.combine(arrival, time(0), tzinfo=timezone.utc)),
            "created": _unix(created), "automatic": True, "method": "standard", "type": "bank_account",
            "source_type": "card", "status": status, "balance_transaction": own["id"],
            "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
            "destination": "ba_1OmniReconBankUS01", "original_payout": None, "reversed_by": None,
            "reconciliation_status": "completed" if status == "paid" else "in_progress",
            "description": "STRIPE PAYOUT", "statement_descriptor": None, "livemode": False, "metadata": {},
        })
        if status == "paid":
            self.world.deposits.append(Deposit(provider=PSP, payout_id=payout_id,
                                               amount=to_major(amount, self.currency), currency=self.currency.upper(),
                                               value_date=arrival, bank_reference=f"STRIPE TRANSFER {payout_id}"))

    # ---- ground truth ----------------------------------------------------------------------
    def register_ground_truth(self) -> None:
        start, end = (_unix(datetime.combine(d, time(0), tzinfo=self.zone))
                      for d in (self.world.start_date, self.world.end_date))
        first, last = (_unix(datetime.combine(d, time(0), tzinfo=timezone.utc))
                       for d in (self.world.start_date, self.world.end_date))

        def created_in_window(records: list[dict]) -> list[dict]:
            return [r for r in records if start <= r["created"] < end]

        arriving = {p["id"] for p in self.sandbox.payouts if first <= p["arrival_date"] < last}
        disputes = created_in_window(self.sandbox.disputes)
        counts = {
            "payouts": len(arriving),
            "balance_transactions": sum(1 for po in self.sandbox.payout_of.values() if po in arriving),
            "charges": len(created_in_window(self.sandbox.charges)),
            "refunds": len(created_in_window(self.sandbox.refunds)),
            "disputes": len(disputes),
            "dispute_balance_transactions": sum(len(d["balance_transactions"]) for d in disputes),
        }
        for table, n in counts.items():
            self.world.count(PSP, table, n)
        self.tally_payments(created_in_window, arriving, disputes)
        self.expect_reconciliation(arriving)

    def expect_reconciliation(self, arriving: set[str]) -> None:
        """What settlement matching must find for the lines of the payouts the pulls land, and the
        captures Stripe has not paid out although it should have."""
        world, sandbox = self.world, self.sandbox
        charge_of = {c["balance_transaction"]: c for c in sandbox.charges}
        refund_of = {r["balance_transaction"]: r for r in sandbox.refunds}
        disputed = {t["id"] for d in sandbox.disputes for t in d["balance_transactions"]}
        settled: set[str] = set()
        for txn in sandbox.balance_transactions:
            if txn["type"] == "payout" or sandbox.payout_of[txn["id"]] not in arriving:
                continue
            if txn["id"] in charge_of:
                charge_id = charge_of[txn["id"]]["id"]
                settled.add(charge_id)
                world.expect_match(PSP, txn["id"], charge_id, "exact_reference")
                if charge_id in sandbox.international_charges:
                    world.expect_exception(PSP, "fee_mismatch", "settlement_line", txn["id"])
            elif txn["id"] in refund_of:
                world.expect_match(PSP, txn["id"], refund_of[txn["id"]]["id"], "exact_reference")
            elif txn["id"] in disputed:
                # the chargeback event is the withdrawal itself (payment_id = its balance transaction id)
                world.expect_match(PSP, txn["id"], txn["id"], "exact_reference")
                world.expect_exception(PSP, "chargeback", "settlement_line", txn["id"])
            else:
                raise ValueError(f"no reconciliation truth for balance transaction type {txn['type']!r}")
        arrivals = [datetime.fromtimestamp(p["arrival_date"], timezone.utc).date()
                    for p in sandbox.payouts if p["id"] in arriving]
        if not arrivals:
            return
        due_by = max(arrivals) - timedelta(days=SETTLE_WITHIN_DAYS)
        entity_zone = ZoneInfo(world.legal_entities[0].time_zone)
        for charge in sandbox.charges:
            business_date = datetime.fromtimestamp(charge["created"], entity_zone).date()
            if charge["id"] not in settled and business_date <= due_by:
                world.expect_exception(PSP, "captured_not_settled", "payment", charge["id"])

    def tally_payments(self, created_in_window, arriving: set[str], disputes: list[dict]) -> None:
        """The canonical payments mart's truth for provider 'stripe', as int_stripe__payments counts what
        the pulls land: a capture per charge, a refund per refund, a chargeback per dispute balance
        transaction (a reinstatement is a chargeback_reversal), a payout per payout arriving in the
        window (gross -amount, dated when created). Signed from the retailer's side; business dates are
        the legal entity's (the account's time zone)."""
        entity_zone = ZoneInfo(self.world.legal_entities[0].time_zone)

        def tally(created: int, minor: int) -> None:
            day = datetime.fromtimestamp(created, entity_zone).date()
            self.world.tally("payments", PSP, day, to_major(minor, self.currency))

        def book(created: int, minor: int, order_id: str, event_type: str) -> None:
            """The event as the web order's payment: Stripe's records are those orders' payment events."""
            day = datetime.fromtimestamp(created, entity_zone).date()
            self.world.book_payment(PSP, CHANNEL, order_id, event_type, to_major(minor, self.currency), day)

        for charge in created_in_window(self.sandbox.charges):
            tally(charge["created"], charge["amount_captured"])
            book(charge["created"], charge["amount_captured"], charge["metadata"]["order_id"], "capture")
        for refund in created_in_window(self.sandbox.refunds):
            tally(refund["created"], -refund["amount"])
            book(refund["created"], -refund["amount"], refund["metadata"]["order_id"], "refund")
        for dispute in disputes:
            for txn in dispute["balance_transactions"]:
                tally(txn["created"], txn["amount"])
        for payout in self.sandbox.payouts:
            if payout["id"] in arriving:
                tally(payout["created"], -payout["amount"])


def simulate(world: World, *, dispute_rate: float = DISPUTE_RATE) -> StripeSandbox:
    """Build the Stripe account from the world's Stripe card payments; add its paid payouts to world.deposits."""
    return _Simulation(world, dispute_rate).run()
