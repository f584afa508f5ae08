"""The stores: Square Point of Sale tickets, their payments and refunds, and each store's nightly Z report.

For every store of the world and every business day *in the store's own time zone* (a San
Francisco Monday ends three hours after a New York one), about `tickets_per_store_day` tickets
are rung up between 10:00 and 20:00 local time. A sale takes catalog items at list price, an
order-level percentage discount now and then, and the store's sales tax per line. It is paid by
one or two tenders:

- card: the terminals are Adyen's, so Square records an EXTERNAL payment (external_details
  type CARD, source "Adyen", source_id the Adyen PSP reference) and the order a THIRD_PARTY_CARD
  tender; the capture goes to world.card_payments for the Adyen simulation to settle, with the
  Square payment id as merchant reference. Card tenders sometimes carry a tip;
- cash (the drawer gives change from the note the shopper hands over);
- a Square gift card (a CARD payment whose card brand is SQUARE_GIFT_CARD).

A share of tickets are returns, rung up as a separate Square order whose `returns` name the sold
order and line (`source_order_id`, `source_line_item_uid`). The goods come back into the store's
stock and the money goes back the way it came, tender by tender (a card refund is an Adyen refund
of the original PSP reference). A return can also be a web order (world.orders of channel
shopify_web, buy online, return in store): Square has no source order then, so the POS writes
the web order's id and name into the return order's metadata, and the refund is unlinked: cash,
or an unreferenced Adyen card refund of its own PSP reference.

Each store closes one register a day; its Z report (connectors/square/z_report.py) adds up that
store-day's tickets, and drop_files writes it into `<inbox>/pos_z_reports/`. At
world.malformed_rate a Z report row is written malformed (quarantined on load).

Ground truth: world.count("square", table, n) for every raw_square table, and "_quarantine"; and the
canonical marts as the int_pos__* dbt models must hold them (world.tally, world.return_links), every
business date the store's local date:
- orders / order_lines (group "pos"): each sale ticket at its order_total (gross - discount + tax; tips
  are not sales) on the date it was rung up, each sold line at its net_amount. Return tickets are not orders;
- payments (group = provider: "adyen" for card tenders, "store_cash", "gift_card"): one event per tender
  at its gross including the tip (the customer paid it), on the tender's date; one negative event per
  refund, on the refund's date;
- returns (group "pos"): each returned line at its total (merchandise less its discount, plus tax) on
  the date it was refunded, and a ReturnLink to the POS order line or the web order line it takes back
  (a web order's line id travels in the return line's source_line_item_uid, with no source_order_id).
"""
from __future__ import annotations

import csv
import io
import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Sequence
from zoneinfo import ZoneInfo

from connectors.sandbox.returnable import ReturnableOrders
from connectors.sandbox.world import (BookedOrder, CardPayment, ChannelOrder, Location, ReturnLink, SoldLine,
                                      StockMovement, World, cents, money)

SOURCE = "square"
CHANNEL = "pos"
INBOX_FOLDER = "pos_z_reports"
TICKETS_PER_STORE_DAY = 25
RETURN_SHARE = 0.10  # of tickets
WEB_RETURN_SHARE = 0.4  # of returns, when web orders exist to be returned
DISCOUNT_SHARE = 0.2
DISCOUNT_PERCENTAGES = (10, 15, 20)
TIP_SHARE = 0.2  # of card tenders
TIPS = (Decimal("1.00"), Decimal("2.00"), Decimal("3.00"), Decimal("5.00"))
CUSTOMER_SHARE = 0.3  # tickets rung up against a known customer (loyalty)
OPENING_FLOAT = Decimal("200.00")
DRAWER_DIFFERENCES = (Decimal("-5.00"), Decimal("-1.00"), Decimal("-0.25"), Decimal("0.10"), Decimal("1.00"))
OPENS, CLOSES = time(10), time(20)
SQUARE_PRODUCT = "SQUARE_POS"
Z_SECTIONS = ("Sales", "Tenders", "Refunds", "Cash Drawer", "Counts")
TENDER_LABELS = {"card": "Card", "cash": "Cash", "gift_card": "Gift Card"}
# tender method -> the canonical payment provider (card tenders run on Adyen's terminals)
PROVIDERS = {"card": "adyen", "cash": "store_cash", "gift_card": "gift_card"}
_ALPHANUMERIC = string.ascii_letters + string.digits
_UPPER = string.ascii_uppercase + string.digits


@dataclass
class ZReport:
    """One register's close of one business day, as the back office exports it."""
    store_code: str
    location_id: str
    register_id: str
    business_date: date
    z_number: int
    time_zone: str
    opened_at: datetime  # store-local
    closed_at: datetime
    currency: str
    lines: list[tuple[str, str, int | None, Decimal | None]]  # section, line, count, amount
    malformed: set[int] = field(default_factory=set)  # indexes of lines written malformed

    @property
    def file_name(self) -> str:
        return f"z_report_{self.store_code}_{self.register_id}_{self.business_date:%Y%m%d}.csv"


@dataclass
class PosSandbox:
    merchant_id: str
    location_ids: dict[str, str]  # store code -> Square location id
    locations: list[dict]
    orders: list[dict]
    payments: list[dict]
    refunds: list[dict]
    z_reports: list[ZReport]


def _minor(amount: Decimal) -> int:
    return int(cents(amount) * 100)


class _Simulation:
    def __init__(self, world: World, tickets_per_store_day: int):
        self.world = world
        self.rng = world.rng(CHANNEL)
        self.report_rng = world.rng(CHANNEL + ":z_reports")  # rendering never shifts the tickets
        self.tickets = tickets_per_store_day
        self.currency = world.currency
        self.merchant_id = self._id(13, _UPPER)
        self.stores = [loc for loc in world.locations if loc.kind == "store"]
        self.location_ids = {store.code: "L" + self._id(12, _UPPER) for store in self.stores}
        self.orders: list[dict] = []
        self.payments: dict[str, dict] = {}
        self.refunds: list[dict] = []
        self.z_reports: list[ZReport] = []
        # what each store's returns can take back: its own sale tickets, and any web order
        self.sold: dict[str, ReturnableOrders[dict]] = {store.code: ReturnableOrders() for store in self.stores}
        self.web_orders: ReturnableOrders[ChannelOrder] = ReturnableOrders()
        self.adyen_capture: dict[str, str] = {}  # Square payment id -> Adyen PSP reference
        self.legal_entity = {e.legal_entity_id: e for e in world.legal_entities}

    # ---- ids and money ------------------------------------------------------------------------
    def _id(self, length: int, alphabet: str = _ALPHANUMERIC) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def _psp_reference(self) -> str:
        return "88" + "".join(self.rng.choice(string.digits) for _ in range(14))

    def _money(self, amount: Decimal) -> dict:
        return {"amount": _minor(amount), "currency": self.currency}

    @staticmethod
    def _iso(moment: datetime) -> str:
        return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # ---- the run ------------------------------------------------------------------------------
    def run(self) -> PosSandbox:
        for order in self.world.orders:
            if order.channel == "shopify_web":
                self.web_orders.add(order.order_id, order, order.at)
        for day in self.world.business_days:
            for store in self.stores:
                self._store_day(store, day)
        locations = [self._location(store) for store in self.stores]
        payments = sorted(self.payments.values(), key=lambda p: (p["created_at"], p["id"]))
        self._count(locations, payments)
        return PosSandbox(self.merchant_id, dict(self.location_ids), locations, self.orders, payments,
                          self.refunds, self.z_reports)

    def _location(self, store: Location) -> dict:
        entity = self.legal_entity[store.legal_entity_id]
        return {
            "id": self.location_ids[store.code], "name": store.name, "business_name": entity.name,
            "description": f"Store {store.code}", "timezone": store.time_zone, "status": "ACTIVE",
            "type": "PHYSICAL", "currency": self.currency, "country": entity.country,
            "merchant_id": self.merchant_id, "created_at": "2024-03-01T14:00:00.000Z", "language_code": "en-US",
            "capabilities": ["CREDIT_CARD_PROCESSING"], "mcc": "5651",
            "address": {"address_line_1": f"1 {store.name.split()[0]} Street", "locality": store.city,
                        "administrative_district_level_1": store.region, "country": entity.country},
        }

    def _store_day(self, store: Location, day: date) -> None:
        zone = ZoneInfo(store.time_zone)
        opens = datetime.combine(day, OPENS, tzinfo=zone)
        span = int((datetime.combine(day, CLOSES, tzinfo=zone) - opens).total_seconds())
        moments = sorted(opens + timedelta(seconds=self.rng.randrange(span)) for _ in range(self.tickets))
        tickets = []
        for number, moment in enumerate(moments, start=1):
            receipt = f"{store.code}-{day:%Y%m%d}-{number:03d}"
            ticket = None
            if self.rng.random() < RETURN_SHARE:
                ticket = self._return(store, moment, receipt)
            tickets.append(ticket or self._sale(store, moment, receipt))
        self.z_reports.append(self._z_report(store, day, tickets))

    # ---- a sale ------------------------------------------------------------------------------
    def _sale(self, store: Location, at: datetime, receipt: str) -> dict:
        rng = self.rng
        order_id = self._id(27)
        picks = rng.sample(self.world.catalog, rng.choice((1, 1, 1, 2, 2, 3)))
        percentage = rng.choice(DISCOUNT_PERCENTAGES) if rng.random() < DISCOUNT_SHARE else 0
        discount_uid, tax_uid = self._id(22), self._id(22)
        lines, sold_lines = [], []
        for item in picks:
            quantity = rng.choice((1, 1, 1, 2))
            gross = item.price * quantity
            discount = cents(gross * percentage / 100)
            tax = cents((gross - discount) * store.tax_rate)
            uid = self._id(22)
            lines.append({
                "uid": uid, "name": item.title, "quantity": str(quantity),
                "catalog_object_id": self._catalog_id(item.sku),
                "variation_name": item.sku, "item_type": "ITEM", "metadata": {"sku": item.sku},
                "base_price_money": self._money(item.price), "variation_total_price_money": self._money(gross),
                "gross_sales_money": self._money(gross), "total_discount_money": self._money(discount),
                "total_tax_money": self._money(tax), "total_money": self._money(gross - discount + tax),
                "applied_discounts": [{"uid": self._id(22), "discount_uid": discount_uid,
                                       "applied_money": self._money(discount)}] if discount else [],
                "applied_taxes": [{"uid": self._id(22), "tax_uid": tax_uid, "applied_money": self._money(tax)}],
                "total_service_charge_money": self._money(Decimal(0)),
            })
            sold_lines.append(SoldLine(uid, item.sku, quantity, item.price, discount, tax))
            self.world.stock_movements.append(StockMovement(item.sku, store.code, "ship", -quantity,
                                                            at.astimezone(timezone.utc), order_id))
        discount_total = sum((line.discount for line in sold_lines), Decimal(0))
        tax_total = sum((line.tax for line in sold_lines), Decimal(0))
        due = sum((line.unit_price * line.quantity for line in sold_lines), Decimal(0)) - discount_total + tax_total
        customer = self.world.customers[rng.randrange(len(self.world.customers))] \
            if rng.random() < CUSTOMER_SHARE else None
        customer_id = f"SQCUST{customer.customer_no:06d}" if customer else None
        paid_at = at + timedelta(seconds=rng.randint(20, 90))
        tenders = [self._tender(store, order_id, method, amount, paid_at + timedelta(seconds=i), receipt, customer_id)
                   for i, (method, amount) in enumerate(self._split(due))]
        tips = sum((Decimal(t["tip_money"]["amount"]) / 100 for t in tenders if "tip_money" in t), Decimal(0))
        closed = paid_at + timedelta(seconds=len(tenders) + 5)
        order = {
            "id": order_id, "location_id": self.location_ids[store.code], "reference_id": receipt,
            "source": {"name": "Square Point of Sale"}, "line_items": lines,
            "taxes": [{"uid": tax_uid, "name": f"{store.city} sales tax",
                       "percentage": format(store.tax_rate * 100, "f"), "scope": "ORDER", "type": "ADDITIVE",
                       "applied_money": self._money(tax_total)}],
            "discounts": [{"uid": discount_uid, "name": f"{percentage}% off", "percentage": str(percentage),
                           "type": "FIXED_PERCENTAGE", "scope": "ORDER",
                           "applied_money": self._money(discount_total)}] if percentage else [],
            "tenders": tenders,
            "net_amounts": {"total_money": self._money(due + tips), "tax_money": self._money(tax_total),
                            "discount_money": self._money(discount_total), "tip_money": self._money(tips),
                            "service_charge_money": self._money(Decimal(0))},
            "created_at": self._iso(at), "updated_at": self._iso(closed), "closed_at": self._iso(closed),
            "state": "COMPLETED", "version": 3 + len(tenders),
            "total_money": self._money(due + tips), "total_tax_money": self._money(tax_total),
            "total_discount_money": self._money(discount_total), "total_tip_money": self._money(tips),
            "total_service_charge_money": self._money(Decimal(0)),
        }
        if customer_id:
            order["customer_id"] = customer_id
        self.orders.append(order)
        self.sold[store.code].add(order_id, order, datetime.fromisoformat(order["closed_at"]))
        day = self._business_date(store, at)
        self.world.tally("orders", CHANNEL, day, due)
        self.world.book_order(BookedOrder(
            CHANNEL, order_id, store.code, day, self.currency,
            gross_sales=sum((line.unit_price * line.quantity for line in sold_lines), Decimal(0)),
            discount_total=discount_total, shipping_total=Decimal(0), tax_total=tax_total, tip_total=tips))
        for line in sold_lines:
            self.world.tally("order_lines", CHANNEL, day, line.unit_price * line.quantity - line.discount + line.tax)
        self.world.orders.append(ChannelOrder(CHANNEL, order_id, receipt, store.code,
                                              customer.customer_no if customer else None,
                                              at.astimezone(timezone.utc), self.currency, sold_lines))
        return order

    def _catalog_id(self, sku: str) -> str:
        # Square catalog ids are opaque; a stable one per SKU, as the catalog sync would create.
        return "VAR" + "".join(_UPPER[(ord(c) * 7 + i) % len(_UPPER)] for i, c in enumerate(sku.ljust(20, "0")))[:21]

    def _split(self, due: Decimal) -> list[tuple[str, Decimal]]:
        """How the shopper pays: mostly one tender, sometimes part on a gift card or in cash."""
        roll = self.rng.random()
        if roll < 0.08 and due > Decimal("2.00"):
            part = min(Decimal(self.rng.choice((10, 20, 25))), cents(due / 2))
            first = "gift_card" if self.rng.random() < 0.5 else "cash"
            return [(first, part), ("card", due - part)]
        if roll < 0.16:
            return [("gift_card", due)]
        if roll < 0.42:
            return [("cash", due)]
        return [("card", due)]

    def _tender(self, store: Location, order_id: str, method: str, amount: Decimal, at: datetime, receipt: str,
                customer_id: str | None) -> dict:
        payment_id = self._id(29)
        location_id = self.location_ids[store.code]
        tip = self.rng.choice(TIPS) if method == "card" and self.rng.random() < TIP_SHARE else Decimal(0)
        total = amount + tip
        payment = {
            "id": payment_id, "created_at": self._iso(at), "updated_at": self._iso(at + timedelta(seconds=1)),
            "amount_money": self._money(amount), "total_money": self._money(total),
            "approved_money": self._money(total), "status": "COMPLETED", "location_id": location_id,
            "order_id": order_id, "reference_id": receipt, "receipt_number": payment_id[:4],
            "application_details": {"square_product": SQUARE_PRODUCT}, "refund_ids": [],
            "version_token": self._id(45),
        }
        tender = {"id": payment_id, "location_id": location_id, "transaction_id": order_id,
                  "created_at": self._iso(at), "amount_money": self._money(total), "payment_id": payment_id}
        if tip:
            payment["tip_money"] = tender["tip_money"] = self._money(tip)
        if method == "card":
            reference = self._psp_reference()
            payment["source_type"] = "EXTERNAL"
            payment["external_details"] = {"type": "CARD", "source": "Adyen", "source_id": reference}
            tender.update(type="THIRD_PARTY_CARD", note="Adyen terminal")
            self.adyen_capture[payment_id] = reference
            self.world.card_payments.append(CardPayment("adyen", reference, payment_id, CHANNEL, order_id, "capture",
                                                        total, self.currency, at.astimezone(timezone.utc)))
        elif method == "cash":
            handed = self._note_for(amount)
            payment["source_type"] = "CASH"
            payment["cash_details"] = {"buyer_supplied_money": self._money(handed),
                                       "change_back_money": self._money(handed - amount)}
            tender.update(type="CASH", cash_details={"buyer_tendered_money": self._money(handed),
                                                     "change_back_money": self._money(handed - amount)})
        else:
            last_4 = "".join(self.rng.choice(string.digits) for _ in range(4))
            card = {"card_brand": "SQUARE_GIFT_CARD", "last_4": last_4}
            payment["source_type"] = "CARD"
            payment["card_details"] = {"status": "CAPTURED", "entry_method": "SWIPED", "card": card}
            tender.update(type="SQUARE_GIFT_CARD", card_details={"status": "CAPTURED", "entry_method": "SWIPED",
                                                                  "card": card})
        if customer_id:
            payment["customer_id"] = tender["customer_id"] = customer_id
        self.payments[payment_id] = payment
        self.world.tally("payments", PROVIDERS[method], self._business_date(store, at), total)
        # the terminal authorises and captures at once: a 'sale' of the tender's total, tip included
        self.world.book_payment(PROVIDERS[method], CHANNEL, order_id, "sale", total, self._business_date(store, at))
        return tender

    def _note_for(self, amount: Decimal) -> Decimal:
        """The smallest of a round-up to the dollar, a $20 or a $50 note that covers the amount."""
        options = [Decimal(int(amount) + (0 if amount == int(amount) else 1))]
        options += [Decimal(note) for note in (20, 50, 100) if Decimal(note) >= amount]
        return self.rng.choice(options[:2])

    # ---- a return ----------------------------------------------------------------------------
    def _return(self, store: Location, at: datetime, receipt: str) -> dict | None:
        """A return ticket of an earlier store sale or of a web order; None when nothing can come back."""
        cutoff = at - timedelta(hours=1)
        web = self.web_orders.as_of(cutoff)
        pos = self.sold[store.code].as_of(cutoff)
        if web and (not pos or self.rng.random() < WEB_RETURN_SHARE):
            return self._web_return(store, at, receipt, self.rng.choice(web))
        if pos:
            return self._store_return(store, at, receipt, pos)
        return None

    def _store_return(self, store: Location, at: datetime, receipt: str, candidates: Sequence[dict]) -> dict:
        sold = self.rng.choice(candidates)
        self.sold[store.code].returned(sold["id"])  # a ticket comes back at most once
        lines = sold["line_items"]
        lines = lines if len(lines) == 1 or self.rng.random() < 0.5 else self.rng.sample(lines, 1)
        returned = [(line["uid"], line["name"], line["variation_name"], line["catalog_object_id"],
                     int(line["quantity"]), Decimal(line["base_price_money"]["amount"]) / 100,
                     Decimal(line["total_discount_money"]["amount"]) / 100,
                     Decimal(line["total_tax_money"]["amount"]) / 100) for line in lines]
        order = self._return_order(store, at, receipt, sold["id"], returned, metadata=None)
        due = Decimal(order["return_amounts"]["total_money"]["amount"]) / 100
        # Money goes back tender by tender, never more than a tender took (tips stay with the staff).
        for tender in sold["tenders"]:
            if due <= 0:
                break
            tip = Decimal(tender.get("tip_money", {}).get("amount", 0)) / 100
            share = min(due, Decimal(tender["amount_money"]["amount"]) / 100 - tip)
            self._refund(store, order, at, share, self.payments[tender["payment_id"]], tender["type"])
            due -= share
        return order

    def _web_return(self, store: Location, at: datetime, receipt: str, web) -> dict:
        self.web_orders.returned(web.order_id)
        lines = web.lines if len(web.lines) == 1 or self.rng.random() < 0.5 else self.rng.sample(web.lines, 1)
        catalog = {item.sku: item for item in self.world.catalog}
        # Square has no source order here: the web order's line id rides in source_line_item_uid.
        returned = [(line.line_id, catalog[line.sku].title if line.sku in catalog else line.sku, line.sku,
                     self._catalog_id(line.sku), line.quantity, line.unit_price, line.discount, line.tax)
                    for line in lines]
        metadata = {"returned_channel": web.channel, "returned_order_id": str(web.order_id),
                    "returned_order_name": web.order_name}
        order = self._return_order(store, at, receipt, None, returned, metadata)
        due = Decimal(order["return_amounts"]["total_money"]["amount"]) / 100
        self._refund(store, order, at, due, None, "THIRD_PARTY_CARD" if self.rng.random() < 0.6 else "CASH")
        return order

    def _return_order(self, store: Location, at: datetime, receipt: str, source_order_id: str | None,
                      returned: list[tuple], metadata: dict | None) -> dict:
        order_id = self._id(27)
        items, total, tax_total, discount_total = [], Decimal(0), Decimal(0), Decimal(0)
        for source_uid, name, sku, catalog_id, quantity, unit_price, discount, tax in returned:
            gross = unit_price * quantity
            item = {"uid": self._id(22), "name": name, "quantity": str(quantity), "catalog_object_id": catalog_id,
                    "variation_name": sku, "item_type": "ITEM", "base_price_money": self._money(unit_price),
                    "variation_total_price_money": self._money(gross), "gross_return_money": self._money(gross),
                    "total_discount_money": self._money(discount), "total_tax_money": self._money(tax),
                    "total_money": self._money(gross - discount + tax)}
            if source_uid:
                item["source_line_item_uid"] = source_uid
            items.append(item)
            total += gross - discount + tax
            tax_total += tax
            discount_total += discount
            self.world.stock_movements.append(StockMovement(sku, store.code, "return_receipt", quantity,
                                                            at.astimezone(timezone.utc), order_id))
        closed = at + timedelta(seconds=self.rng.randint(60, 240))
        zero = self._money(Decimal(0))
        order = {
            "id": order_id, "location_id": self.location_ids[store.code], "reference_id": receipt,
            "source": {"name": "Square Point of Sale"},
            "returns": [{"uid": self._id(22), **({"source_order_id": source_order_id} if source_order_id else {}),
                         "return_line_items": items}],
            "return_amounts": {"total_money": self._money(total), "tax_money": self._money(tax_total),
                               "discount_money": self._money(discount_total), "tip_money": zero,
                               "service_charge_money": zero},
            "net_amounts": {"total_money": self._money(-total), "tax_money": self._money(-tax_total),
                            "discount_money": self._money(-discount_total), "tip_money": zero,
                            "service_charge_money": zero},
            "created_at": self._iso(at), "updated_at": self._iso(closed), "closed_at": self._iso(closed),
            "state": "COMPLETED", "version": 4, "total_money": zero, "total_tax_money": zero,
            "total_discount_money": zero, "total_tip_money": zero, "total_service_charge_money": zero,
        }
        if metadata:
            order["metadata"] = metadata
        self.orders.append(order)
        self._tally_return(store, order, source_order_id, metadata)
        return order

    def _tally_return(self, store: Location, order: dict, source_order_id: str | None, metadata: dict | None) -> None:
        """Each returned line, refunded when the return ticket closes, and the order line it takes back."""
        refunded_on = self._business_date(store, datetime.fromisoformat(order["closed_at"]))
        for item in order["returns"][0]["return_line_items"]:
            self.world.tally("returns", CHANNEL, refunded_on, Decimal(item["total_money"]["amount"]) / 100)
            if source_order_id:
                original = (CHANNEL, source_order_id, f"{source_order_id}/{item['source_line_item_uid']}")
            else:
                original = (metadata["returned_channel"], metadata["returned_order_id"], item["source_line_item_uid"])
            self.world.return_links.append(ReturnLink(CHANNEL, f"{order['id']}/{item['uid']}", *original))

    @staticmethod
    def _business_date(store: Location, moment: datetime) -> date:
        """The store's local calendar date of an instant: every POS business date is the store's."""
        return moment.astimezone(ZoneInfo(store.time_zone)).date()

    def _refund(self, store: Location, order: dict, at: datetime, amount: Decimal, payment: dict | None,
                method: str) -> None:
        """Give `amount` back: against a Square payment (the way it was paid) or unlinked (a web order)."""
        moment = datetime.fromisoformat(order["closed_at"])
        refund = {"id": f"{payment['id']}_{self._id(45)}" if payment else self._id(29),
                  "status": "COMPLETED", "location_id": self.location_ids[store.code],
                  "amount_money": self._money(amount), "order_id": order["id"],
                  "reason": "Returned goods", "created_at": self._iso(moment),
                  "updated_at": self._iso(moment + timedelta(seconds=2))}
        if payment is None:
            refund["unlinked"] = True
        else:
            refund["payment_id"] = payment["id"]
            payment["refund_ids"].append(refund["id"])
            refunded = payment.get("refunded_money", {}).get("amount", 0) + _minor(amount)
            payment["refunded_money"] = {"amount": refunded, "currency": self.currency}
            payment["updated_at"] = refund["updated_at"]
        if method == "THIRD_PARTY_CARD":
            # A linked card refund is an Adyen refund of the capture; an unlinked one gets its own reference.
            reference = self.adyen_capture[payment["id"]] if payment else self._psp_reference()
            # Square's refund id is the merchant's reference of the refund: the payment event marts.payments
            # keys it by, which settlement matching must find from Adyen's Refunded row.
            merchant_reference = refund["id"]
            refund["destination_type"] = "EXTERNAL"
            refund["destination_details"] = {"external_details": {"type": "CARD", "source": "Adyen",
                                                                  "source_id": reference}}
            self.world.card_payments.append(CardPayment("adyen", reference, merchant_reference, CHANNEL, order["id"],
                                                        "refund", amount, self.currency,
                                                        moment.astimezone(timezone.utc)))
        elif method == "CASH":
            refund["destination_type"] = "CASH"
            refund["destination_details"] = {"cash_details": {"seller_supplied_money": self._money(amount)}}
        else:  # back onto the gift card
            refund["destination_type"] = "CARD"
        self.refunds.append(refund)
        provider = PROVIDERS[{"THIRD_PARTY_CARD": "card", "CASH": "cash"}.get(method, "gift_card")]
        self.world.tally("payments", provider, self._business_date(store, moment), -amount)
        # the money belongs to the sale it takes back: the store ticket paid, or the web order returned here
        channel, order_id = (CHANNEL, payment["order_id"]) if payment else (
            order["metadata"]["returned_channel"], order["metadata"]["returned_order_id"])
        self.world.book_payment(provider, channel, order_id, "refund", -amount, self._business_date(store, moment))

    # ---- the Z report ------------------------------------------------------------------------
    def _z_report(self, store: Location, day: date, tickets: list[dict]) -> ZReport:
        sales = [t for t in tickets if t.get("line_items")]
        returns = [t for t in tickets if t.get("returns")]
        amount = lambda money: Decimal(money["amount"]) / 100  # noqa: E731 - minor units back to dollars
        gross = sum((amount(li["gross_sales_money"]) for t in sales for li in t["line_items"]), Decimal(0))
        units = sum(int(li["quantity"]) for t in sales for li in t["line_items"])
        discounts = sum((amount(t["total_discount_money"]) for t in sales), Decimal(0))
        returned_lines = [li for t in returns for r in t["returns"] for li in r["return_line_items"]]
        returned = sum((amount(li["gross_return_money"]) - amount(li["total_discount_money"])
                        for li in returned_lines), Decimal(0))
        tax = sum((amount(t["total_tax_money"]) for t in sales), Decimal(0)) \
            - sum((amount(t["return_amounts"]["tax_money"]) for t in returns), Decimal(0))
        tenders = [tender for t in sales for tender in t["tenders"]]
        tips = sum((amount(t["tip_money"]) for t in tenders if "tip_money" in t), Decimal(0))
        net = gross - discounts - returned
        kinds = {"THIRD_PARTY_CARD": "card", "CASH": "cash", "SQUARE_GIFT_CARD": "gift_card"}
        destinations = {"EXTERNAL": "card", "CASH": "cash", "CARD": "gift_card"}
        return_ids = {t["id"] for t in returns}
        refunds = [r for r in self.refunds if r["order_id"] in return_ids]
        lines: list[tuple[str, str, int | None, Decimal | None]] = [
            ("Sales", "Gross Sales", units, gross),
            ("Sales", "Discounts", sum(1 for t in sales if t["total_discount_money"]["amount"]), -discounts),
            ("Sales", "Returns", sum(int(li["quantity"]) for li in returned_lines), -returned),
            ("Sales", "Net Sales", None, net),
            ("Sales", "Tax", None, tax),
            ("Sales", "Tips", sum(1 for t in tenders if "tip_money" in t), tips),
            ("Sales", "Total Collected", None, net + tax + tips),
        ]
        for kind, label in TENDER_LABELS.items():
            mine = [t for t in tenders if kinds[t["type"]] == kind]
            lines.append(("Tenders", label, len(mine), sum((amount(t["amount_money"]) for t in mine), Decimal(0))))
        for kind, label in TENDER_LABELS.items():
            mine = [r for r in refunds if destinations[r["destination_type"]] == kind]
            lines.append(("Refunds", label, len(mine), -sum((amount(r["amount_money"]) for r in mine), Decimal(0))))
        cash_in = lines[8][3]
        cash_out = lines[11][3]
        expected = OPENING_FLOAT + cash_in + cash_out
        drawer_rng = self.world.rng(f"{CHANNEL}:drawer:{store.code}:{day.isoformat()}")
        counted = expected + (drawer_rng.choice(DRAWER_DIFFERENCES) if drawer_rng.random() < 0.2 else Decimal(0))
        lines += [("Cash Drawer", "Opening Float", None, OPENING_FLOAT), ("Cash Drawer", "Cash Sales", None, cash_in),
                  ("Cash Drawer", "Cash Refunds", None, cash_out), ("Cash Drawer", "Expected", None, expected),
                  ("Cash Drawer", "Counted", None, counted), ("Cash Drawer", "Over/Short", None, counted - expected),
                  ("Counts", "Transactions", len(tickets), None), ("Counts", "Sales Tickets", len(sales), None),
                  ("Counts", "Return Tickets", len(returns), None)]
        zone = ZoneInfo(store.time_zone)
        malformed = {i for i in range(len(lines)) if self.report_rng.random() < self.world.malformed_rate}
        return ZReport(store.code, self.location_ids[store.code], f"{store.code}-REG01", day,
                       (day - date(2024, 3, 1)).days + 1, store.time_zone,
                       datetime.combine(day, time(9, 30), tzinfo=zone),
                       datetime.combine(day, time(20, 45), tzinfo=zone) + timedelta(seconds=self.rng.randrange(900)),
                       self.currency, lines, malformed)

    # ---- ground truth ------------------------------------------------------------------------
    def _count(self, locations: list[dict], payments: list[dict]) -> None:
        count = self.world.count
        count(SOURCE, "locations", len(locations))
        count(SOURCE, "orders", len(self.orders))
        count(SOURCE, "order_line_items", sum(len(o.get("line_items", [])) for o in self.orders))
        count(SOURCE, "order_tenders", sum(len(o.get("tenders", [])) for o in self.orders))
        count(SOURCE, "order_returns", sum(len(r["return_line_items"]) for o in self.orders
                                           for r in o.get("returns", [])))
        count(SOURCE, "payments", len(payments))
        count(SOURCE, "refunds", len(self.refunds))
        count(SOURCE, "z_reports", sum(len(z.lines) - len(z.malformed) for z in self.z_reports))
        count(SOURCE, "_quarantine", sum(len(z.malformed) for z in self.z_reports))


def simulate(world: World, *, tickets_per_store_day: int = TICKETS_PER_STORE_DAY) -> PosSandbox:
    """Ring up every store's business days; register what Square serves and what the Z reports hold."""
    return _Simulation(world, tickets_per_store_day).run()


# ---- files --------------------------------------------------------------------------------------

def _number(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    # + 0 turns a negated zero ("-0.00") into a plain one
    return money(value + 0) if isinstance(value, Decimal) else str(value)


def render_z_report(report: ZReport, business_name: str = "Omnirecon Retail US Inc.") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Z Report", business_name])
    for key, value in (("Store", report.store_code), ("Location ID", report.location_id),
                       ("Register", report.register_id), ("Business Date", report.business_date.isoformat()),
                       ("Z Number", str(report.z_number)), ("Time Zone", report.time_zone),
                       ("Opened At", f"{report.opened_at:%Y-%m-%d %H:%M:%S}"),
                       ("Closed At", f"{report.closed_at:%Y-%m-%d %H:%M:%S}"), ("Currency", report.currency)):
        writer.writerow([key, value])
    writer.writerow([])
    writer.writerow(["Section", "Line", "Count", "Amount"])
    for index, (section, line, count, amount) in enumerate(report.lines):
        cells = [section, line, _number(count), _number(amount)]
        if index in report.malformed:
            cells = _malformed(cells, index)
        writer.writerow(cells)
    return out.getvalue()


def _malformed(cells: list[str], index: int) -> list[str]:
    """One of the ways a hand-edited or badly exported row breaks (each is quarantined by the parser)."""
    how = index % 3
    if how == 0:
        return [*cells[:3], "$" + (cells[3] or "0.00")]  # a currency sign in the amount
    if how == 1:
        return [cells[0], cells[1], (cells[2] or "1") + "O", cells[3]]  # a letter O typed for a zero
    return cells[:3]  # the amount column lost


def drop_files(sandbox: PosSandbox, inbox_root: Path) -> list[Path]:
    """Write every Z report into `<inbox_root>/pos_z_reports/` as the back office exports it."""
    folder = Path(inbox_root) / INBOX_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for report in sandbox.z_reports:
        path = folder / report.file_name
        path.write_text(render_z_report(report), encoding="utf-8", newline="")
        paths.append(path)
    return paths
