"""The web shop: a Shopify store paid mostly through Shopify Payments, a share of it through Stripe.

The simulation knows the truth (which payout line pays which capture, which anomalies it
injected) and renders it twice: as vendor-shaped payloads that the fake Shopify Admin API
serves, and as a ground-truth manifest of what a correct reconciliation must find.

Business days run in the shop's time zone. Activity of day d settles in the payout dated d+1,
so the last simulated day's captures and refunds are still pending at the end: they are
neither matched nor exceptions. Orders paid through Stripe (Shopify's external gateway) settle
in Stripe's payouts instead: they go to the world's card payments for the Stripe simulation.
Every order ships from the 3PL warehouse and is remembered in the world's orders, so a store
can take it back (buy online, return in store).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from connectors.sandbox.shopify_api import ShopifyStore
from connectors.sandbox.world import (CENT, WAREHOUSE, BookedOrder, CardPayment, ChannelOrder, Deposit, ReturnLink,
                                      SoldLine, StockMovement, World, cents, money)

CHANNEL = "shopify_web"
PROVIDER = "shopify_payments"
STRIPE_SHARE = 0.15  # orders paid through Stripe as Shopify's external gateway
TAX_RATE = WAREHOUSE.tax_rate  # orders ship from the warehouse; its state's rate applies
CARD_FEE_RATE = Decimal("0.029")
CARD_FEE_FIXED = Decimal("0.30")
SHIPPING_PRICES = [Decimal("0.00"), Decimal("5.99"), Decimal("9.99")]
ANOMALIES = ("capture_never_paid_out", "payout_amount_differs", "refund_without_order")


@dataclass
class ShopifyWebSandbox:
    store: ShopifyStore
    ground_truth: dict = field(default_factory=dict)


_cents, _money = cents, money


class _Ids:
    """Per-entity id sequences in disjoint ranges, like Shopify's 64-bit ids."""

    def __init__(self):
        self._next = {"order": 5_100_000_000, "line": 11_000_000_000, "txn": 7_000_000_000,
                      "refund": 9_000_000_000, "refund_line": 9_500_000_000, "adjustment": 9_800_000_000,
                      "payout": 60_000_000, "balance": 8_000_000_000, "charge": 3_000_000_000}

    def __call__(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]


def _allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split a discount over lines by weight, to the cent, remainder on the last line."""
    whole = sum(weights)
    shares = [_cents(total * w / whole) for w in weights[:-1]]
    return shares + [total - sum(shares, Decimal("0"))]


class _Simulation:
    def __init__(self, config, world: World):
        self.cfg = config  # the SandboxConfig: orders per day and anomaly rates
        self.world = world
        self.rng = world.rng(CHANNEL)
        self.gateway_rng = world.rng(CHANNEL + ":gateway")
        self.tz = ZoneInfo(config.time_zone)
        self.ids = _Ids()
        self.store = ShopifyStore(orders=[], transactions={}, payouts=[], balance_transactions=[])
        self.window_end = self._local(config.start_date + timedelta(days=config.days), time(0))
        # what settles on which business day: list of (balance transaction payload, truth entry)
        self.settlements: dict[date, list[dict]] = {}
        self.pending: list[dict] = []
        self.anomalies = {name: 0 for name in ANOMALIES}

    def _local(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.tz)

    def _iso(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).isoformat(timespec="seconds")

    def _business_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def _inject(self, anomaly: str, share: float = 1.0) -> bool:
        if self.rng.random() < self.cfg.anomaly_rate * share:
            self.anomalies[anomaly] += 1
            return True
        return False

    # ---- orders -------------------------------------------------------------------------
    def run(self) -> ShopifyWebSandbox:
        for offset in range(self.cfg.days):
            day = self.cfg.start_date + timedelta(days=offset)
            for _ in range(self.cfg.orders_per_day):
                self._order(day)
        self._payouts()
        self.store.orders.sort(key=lambda o: (o["updated_at"], o["id"]))
        self._remember_in_world()
        return ShopifyWebSandbox(self.store, self._ground_truth())

    def _order(self, day: date) -> None:
        rng, cfg = self.rng, self.cfg
        created = self._local(day, time(8)) + timedelta(seconds=rng.randrange(13 * 3600))
        order_id = self.ids("order")
        number = order_id - 5_100_000_000 + 1000
        picks = rng.sample(self.world.catalog, rng.randint(1, 3))
        quantities = [rng.randint(1, 3) for _ in picks]
        gross = [item.price * qty for item, qty in zip(picks, quantities)]
        discount_total = _cents(sum(gross) * Decimal("0.10")) if rng.random() < 0.3 else Decimal("0.00")
        discounts = _allocate(discount_total, gross) if discount_total else [Decimal("0.00")] * len(picks)
        taxes = [_cents((g - d) * TAX_RATE) for g, d in zip(gross, discounts)]
        shipping = rng.choice(SHIPPING_PRICES)
        subtotal = sum(gross) - discount_total
        total = subtotal + shipping + sum(taxes)
        lines = []
        for item, qty, disc, tax in zip(picks, quantities, discounts, taxes):
            lines.append({
                "id": self.ids("line"), "sku": item.sku, "title": item.title, "quantity": qty,
                "price": _money(item.price), "total_discount": _money(disc),
                "discount_allocations": [{"amount": _money(disc), "discount_application_index": 0}] if disc else [],
                "tax_lines": [{"title": "NY State Tax", "rate": float(TAX_RATE), "price": _money(tax)}],
                "fulfillable_quantity": qty, "gift_card": False, "taxable": True, "requires_shipping": True,
            })
        customer = self.world.customers[rng.randrange(1, 5000) - 1]
        customer_no, email = customer.customer_no, customer.email
        order = {
            "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
            "name": f"#{number}", "order_number": number, "email": email, "contact_email": email,
            "created_at": self._iso(created), "processed_at": self._iso(created), "updated_at": None,
            "cancelled_at": None, "currency": cfg.currency, "presentment_currency": cfg.currency,
            "taxes_included": False, "source_name": "web", "financial_status": "paid",
            "subtotal_price": _money(subtotal), "total_line_items_price": _money(sum(gross)),
            "total_discounts": _money(discount_total), "total_tax": _money(sum(taxes)),
            "total_price": _money(total),
            "total_shipping_price_set": {"shop_money": {"amount": _money(shipping), "currency_code": cfg.currency}},
            "discount_codes": [{"code": "SAVE10", "amount": _money(discount_total), "type": "percentage"}] if discount_total else [],
            "line_items": lines,
            "shipping_lines": [{"id": self.ids("line"), "title": "Standard", "price": _money(shipping)}],
            "customer": {"id": 700_000 + customer_no, "email": email, "first_name": customer.first_name, "last_name": customer.last_name},
            "shipping_address": {"address1": f"{customer_no} Main St", "city": customer.city, "country_code": "US"},
            "refunds": [],
        }
        stripe_charge = None
        if self.gateway_rng.random() < STRIPE_SHARE:
            stripe_charge = f"ch_{self.gateway_rng.getrandbits(96):024x}"
        order["_stripe_charge"] = stripe_charge  # removed before serving: the fake serves Shopify's fields only
        auth = self._transaction(order_id, "authorization", total, created, parent=None, stripe_charge=stripe_charge)
        captured_at = created + timedelta(minutes=rng.randint(1, 60))
        capture = self._transaction(order_id, "capture", total, captured_at, parent=auth["id"], stripe_charge=stripe_charge)
        if stripe_charge:
            self._pay_through_stripe(order, "capture", total, captured_at)
        else:
            self._settle_capture(order_id, capture, captured_at)
        updated = captured_at
        refund_roll = rng.random()
        if refund_roll < 0.18:
            refunded_at = captured_at + timedelta(hours=rng.randint(1, 30))
            if refunded_at < self.window_end:
                full = refund_roll < 0.08
                self._refund(order, capture, lines, shipping, refunded_at, full)
                order["financial_status"] = "refunded" if full else "partially_refunded"
                updated = refunded_at
        order["updated_at"] = self._iso(updated)
        self.store.orders.append(order)

    def _transaction(self, order_id: int, kind: str, amount: Decimal, at: datetime, parent,
                     stripe_charge: str | None = None) -> dict:
        txn = {
            "id": self.ids("txn"), "order_id": order_id, "kind": kind,
            "gateway": "stripe" if stripe_charge else "shopify_payments",
            "status": "success", "message": None, "created_at": self._iso(at), "processed_at": self._iso(at),
            "test": False, "authorization": stripe_charge or f"ch_{self.rng.getrandbits(48):012x}", "parent_id": parent,
            "amount": _money(amount), "currency": self.cfg.currency, "source_name": "web",
            "payment_details": {"credit_card_company": "Visa", "credit_card_number": "•••• •••• •••• 4242"},
        }
        self.store.transactions.setdefault(order_id, []).append(txn)
        return txn

    def _refund(self, order, capture, lines, shipping, at, full) -> None:
        refund_id = self.ids("refund")
        refund_lines, adjustments = [], []
        if full:
            chosen = [(line, line["quantity"]) for line in lines]
        else:
            line = self.rng.choice(lines)
            chosen = [(line, 1)]
        amount = Decimal("0")
        for line, qty in chosen:
            line_net = Decimal(line["price"]) * line["quantity"] - Decimal(line["total_discount"])
            line_tax = Decimal(line["tax_lines"][0]["price"])
            subtotal = line_net if qty == line["quantity"] else _cents(line_net / line["quantity"] * qty)
            tax = line_tax if qty == line["quantity"] else _cents(line_tax / line["quantity"] * qty)
            refund_lines.append({"id": self.ids("refund_line"), "line_item_id": line["id"], "quantity": qty,
                                 "restock_type": "return", "subtotal": float(subtotal), "total_tax": float(tax),
                                 "subtotal_set": {"shop_money": {"amount": _money(subtotal), "currency_code": self.cfg.currency}}})
            amount += subtotal + tax
        if full and shipping:
            adjustments.append({"id": self.ids("adjustment"), "kind": "shipping_refund", "reason": "Shipping refund",
                                "amount": _money(-shipping), "tax_amount": "0.00"})
            amount += shipping
        txn = self._transaction(order["id"], "refund", amount, at, parent=capture["id"],
                                stripe_charge=order["_stripe_charge"])
        order["refunds"].append({
            "id": refund_id, "order_id": order["id"], "created_at": self._iso(at), "processed_at": self._iso(at),
            "note": "Customer return", "restock": True, "refund_line_items": refund_lines,
            "order_adjustments": adjustments, "transactions": [txn],
        })
        self._restock(order, chosen, at)
        if order["_stripe_charge"]:
            self._pay_through_stripe(order, "refund", amount, at)
            return
        self._settle(at, {"type": "refund", "amount": -amount, "fee": Decimal("0"), "order_id": order["id"],
                          "txn_id": txn["id"], "at": at},
                     match={"payment_id": str(txn["id"]), "payment_amount": -amount})

    # ---- what the rest of the world sees --------------------------------------------------
    def _pay_through_stripe(self, order: dict, kind: str, amount: Decimal, at: datetime) -> None:
        self.world.card_payments.append(CardPayment(
            psp="stripe", psp_reference=order["_stripe_charge"], merchant_reference=order["name"], channel=CHANNEL,
            order_id=str(order["id"]), kind=kind, amount=amount, currency=self.cfg.currency, at=at))

    def _restock(self, order: dict, chosen: list, at: datetime) -> None:
        for line, qty in chosen:
            self.world.stock_movements.append(StockMovement(
                sku=line["sku"], location=WAREHOUSE.code, kind="return_receipt", quantity=qty, at=at,
                reference=str(order["id"])))

    def _remember_in_world(self) -> None:
        """Orders, shipments and Shopify Payments payouts, for the channels, the WMS and the bank."""
        world = self.world
        for order in self.store.orders:
            created = datetime.fromisoformat(order["created_at"])
            world.orders.append(ChannelOrder(
                channel=CHANNEL, order_id=str(order["id"]), order_name=order["name"], location=WAREHOUSE.code,
                customer_no=order["customer"]["id"] - 700_000, at=created, currency=order["currency"],
                lines=[SoldLine(str(li["id"]), li["sku"], li["quantity"], Decimal(li["price"]),
                                Decimal(li["total_discount"]), Decimal(li["tax_lines"][0]["price"]))
                       for li in order["line_items"]]))
            for li in order["line_items"]:
                world.stock_movements.append(StockMovement(
                    sku=li["sku"], location=WAREHOUSE.code, kind="ship", quantity=-li["quantity"],
                    at=created + timedelta(hours=2), reference=str(order["id"])))
            self._tally(order)
            del order["_stripe_charge"]
        for payout in self.store.payouts:
            world.deposits.append(Deposit(
                provider="shopify_payments", payout_id=str(payout["id"]), amount=Decimal(payout["amount"]),
                currency=payout["currency"], value_date=date.fromisoformat(payout["date"]),
                bank_reference=f"SHOPIFY PAYMENTS PAYOUT {payout['id']}"))
        transactions = sum(len(t) for t in self.store.transactions.values())
        refunds = [r for o in self.store.orders for r in o["refunds"]]
        for table, records in {
            "orders": len(self.store.orders), "order_line_items": sum(len(o["line_items"]) for o in self.store.orders),
            "refunds": len(refunds), "refund_line_items": sum(len(r["refund_line_items"]) for r in refunds),
            "refund_order_adjustments": sum(len(r["order_adjustments"]) for r in refunds),
            "transactions": transactions, "payouts": len(self.store.payouts),
            "balance_transactions": len(self.store.balance_transactions),
        }.items():
            world.count("shopify", table, records)

    def _tally(self, order: dict) -> None:
        """What the canonical marts must hold for this order (orders, lines, payments, returns)."""
        world, day = self.world, self._business_date
        world.tally("orders", CHANNEL, day(datetime.fromisoformat(order["created_at"])), Decimal(order["total_price"]))
        world.book_order(BookedOrder(
            CHANNEL, str(order["id"]), WAREHOUSE.code, day(datetime.fromisoformat(order["created_at"])),
            order["currency"], Decimal(order["total_line_items_price"]), Decimal(order["total_discounts"]),
            Decimal(order["total_shipping_price_set"]["shop_money"]["amount"]), Decimal(order["total_tax"])))
        for li in order["line_items"]:
            net = Decimal(li["price"]) * li["quantity"] - Decimal(li["total_discount"]) + Decimal(li["tax_lines"][0]["price"])
            world.tally("order_lines", CHANNEL, day(datetime.fromisoformat(order["created_at"])), net)
        if not order["_stripe_charge"]:  # Stripe's own records are those orders' payment events
            for txn in self.store.transactions[order["id"]]:
                amount = Decimal(txn["amount"])
                signed = -amount if txn["kind"] == "refund" else amount
                world.tally("payments", "shopify_payments", day(datetime.fromisoformat(txn["processed_at"])), signed)
                world.book_payment("shopify_payments", CHANNEL, order["id"], txn["kind"], signed,
                                   day(datetime.fromisoformat(txn["processed_at"])))
        for refund in order["refunds"]:
            refunded = day(datetime.fromisoformat(refund["processed_at"]))
            for line in refund["refund_line_items"]:
                world.tally("returns", CHANNEL, refunded,
                            Decimal(line["subtotal_set"]["shop_money"]["amount"]) + Decimal(str(line["total_tax"])))
                world.return_links.append(ReturnLink(CHANNEL, str(line["id"]), CHANNEL, str(order["id"]),
                                                     str(line["line_item_id"])))

    # ---- settlement ---------------------------------------------------------------------
    def _settles_in_window(self, at: datetime) -> bool:
        return self._business_date(at) + timedelta(days=1) < self.cfg.start_date + timedelta(days=self.cfg.days)

    def _settle_capture(self, order_id: int, capture: dict, at: datetime) -> None:
        amount = Decimal(capture["amount"])
        if self._settles_in_window(at) and self._inject("capture_never_paid_out"):
            self.world.expect_exception(PROVIDER, "captured_not_settled", "payment", capture["id"])
            return
        settled_amount = amount
        # A line without its reference is matched on order and amount, so its amount stays true.
        reference = None if self.rng.random() < self.cfg.missing_reference_rate else capture["id"]
        if reference and self._settles_in_window(at) and self._inject("payout_amount_differs"):
            delta = Decimal(self.rng.randint(1, 300)) * CENT * self.rng.choice([-1, 1])
            settled_amount = amount + delta
        fee = _cents(settled_amount * CARD_FEE_RATE + CARD_FEE_FIXED)
        self._settle(at, {"type": "charge", "amount": settled_amount, "fee": fee, "order_id": order_id,
                          "txn_id": reference, "at": at},
                     match={"payment_id": str(capture["id"]), "payment_amount": amount,
                            "rule": "exact_reference" if reference else "order_reference_amount"})

    def _settle(self, at: datetime, line: dict, match: dict | None) -> None:
        line["match"] = match
        if self._settles_in_window(at):
            self.settlements.setdefault(self._business_date(at), []).append(line)
        elif match:
            self.pending.append({"payment_id": match["payment_id"], "business_date": self._business_date(at).isoformat()})

    def _payouts(self) -> None:
        cfg, rng = self.cfg, self.rng
        for day in sorted(self.settlements):
            lines = self.settlements[day]
            settled_at = self._local(day, time(23, 30))
            if rng.random() < 0.3:
                lines.append({"type": "adjustment", "amount": Decimal(rng.randint(-200, 200) or 25) * CENT,
                              "fee": Decimal("0"), "order_id": None, "txn_id": None, "at": settled_at, "match": None})
            # Refunds of orders placed before the shop's history starts: one chance per settled line.
            for _ in range(sum(1 for line in lines if line["type"] != "adjustment")):
                if self._inject("refund_without_order", share=0.25):
                    amount = -Decimal(rng.randint(1500, 9000)) * CENT
                    lines.append({"type": "refund", "amount": amount, "fee": Decimal("0"),
                                  "order_id": 4_900_000_000 + rng.randrange(99_999),
                                  "txn_id": 6_900_000_000 + rng.randrange(99_999),
                                  "at": settled_at, "match": None, "orphan": True})
            payout_id = self.ids("payout")
            payout_date = day + timedelta(days=1)
            net_total = Decimal("0")
            for line in lines:
                balance_id = self.ids("balance")
                net = line["amount"] - line["fee"]
                net_total += net
                self.store.balance_transactions.append({
                    "id": balance_id, "type": line["type"], "test": False, "payout_id": payout_id,
                    "payout_status": "paid", "currency": cfg.currency, "amount": _money(line["amount"]),
                    "fee": _money(line["fee"]), "net": _money(net),
                    "source_id": self.ids("charge") if line["type"] != "adjustment" else self.ids("charge"),
                    "source_type": {"charge": "charge", "refund": "Payments::Refund"}.get(line["type"], "adjustment"),
                    "source_order_id": line["order_id"], "source_order_transaction_id": line["txn_id"],
                    "processed_at": self._iso(line["at"]),
                    "adjustment_reason": "tax_adjustment" if line["type"] == "adjustment" else None,
                })
                if line.get("orphan"):
                    self.world.expect_exception(PROVIDER, "refund_without_order", "settlement_line", balance_id)
                elif line["match"]:
                    variance = line["amount"] - line["match"]["payment_amount"]
                    self.world.expect_match(PROVIDER, balance_id, line["match"]["payment_id"],
                                            line["match"].get("rule", "exact_reference"), variance)
                    if variance:
                        self.world.expect_exception(PROVIDER, "amount_mismatch", "settlement_line", balance_id)
            self.store.payouts.append({"id": payout_id, "status": "paid", "date": payout_date.isoformat(),
                                       "currency": cfg.currency, "amount": _money(net_total)})
            self.store.balance_transactions.append({
                "id": self.ids("balance"), "type": "payout", "test": False, "payout_id": payout_id, "payout_status": "paid",
                "currency": cfg.currency, "amount": _money(-net_total), "fee": "0.00", "net": _money(-net_total),
                "source_id": payout_id, "source_type": "payout", "source_order_id": None,
                "source_order_transaction_id": None, "processed_at": self._iso(settled_at), "adjustment_reason": None,
            })

    # ---- truth --------------------------------------------------------------------------
    def _ground_truth(self) -> dict:
        store = self.store
        settlement_lines = [b for b in store.balance_transactions if b["type"] != "payout"]
        journals = []
        for payout in store.payouts:
            lines = [b for b in settlement_lines if b["payout_id"] == payout["id"]]
            fees = sum((Decimal(b["fee"]) for b in lines), Decimal("0"))
            clearing = sum((Decimal(b["amount"]) for b in lines if b["type"] in ("charge", "refund")), Decimal("0"))
            adjustments = sum((Decimal(b["amount"]) for b in lines if b["type"] == "adjustment"), Decimal("0"))
            journals.append({"payout_id": str(payout["id"]), "posting_date": payout["date"],
                             "bank_debit": payout["amount"], "fees_debit": _money(fees),
                             "clearing_credit": _money(clearing), "adjustments_credit": _money(adjustments),
                             "balanced": Decimal(payout["amount"]) + fees == clearing + adjustments})
        captures = [t for txns in store.transactions.values() for t in txns if t["kind"] == "capture"]
        matches = [m for m in self.world.expected_matches if m.provider == PROVIDER]
        exceptions = [e for e in self.world.expected_exceptions if e.provider == PROVIDER]
        return {
            "config": {"seed": self.cfg.seed, "start_date": self.cfg.start_date.isoformat(), "days": self.cfg.days,
                       "orders_per_day": self.cfg.orders_per_day, "anomaly_rate": self.cfg.anomaly_rate,
                       "time_zone": self.cfg.time_zone, "currency": self.cfg.currency},
            "orders_total": _money(sum((Decimal(o["total_price"]) for o in store.orders), Decimal("0"))),
            "captures": {"count": len(captures),
                         "amount": _money(sum((Decimal(c["amount"]) for c in captures), Decimal("0")))},
            "anomalies_injected": self.anomalies,
            "settlement_lines": {"total": len(settlement_lines),
                                 "matched": len(matches),
                                 "unmatched": sum(1 for e in exceptions if e.reference_type == "settlement_line"
                                                  and e.reason_code != "amount_mismatch"),
                                 "no_match_needed": sum(1 for b in settlement_lines if b["type"] == "adjustment")},
            "pending_settlement": sorted(self.pending, key=lambda p: p["payment_id"]),
            "settlement_journals": journals,
        }


def simulate(world: World, config) -> ShopifyWebSandbox:
    """The web shop's orders, transactions and Shopify Payments payouts, for the given sandbox config."""
    return _Simulation(config, world).run()
