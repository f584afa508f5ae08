"""Ground truth of the SALES journals: what each day's orders and refunds post, per channel and location.

One journal per (legal entity, channel, location, business date), from what the channel simulations
booked as it lands in the canonical marts (world.sales_orders: marts.orders; world.order_payments: the
payment events of marts.payments that belong to an order), never from the pipeline's SQL:

- every order that is not voided (a cancelled Amazon order books nothing), on the order's business date
  and in its batch: revenue credited with gross sales, discounts debited, shipping, tax and tips (store
  card tenders; owed to staff, not in order_total) credited; the customer's money debited to the
  clearing account of each provider that took it (captures and sales of the order, whatever their date),
  and whatever the customer owes beyond that (order_total + tip_total - paid) to the clearing account of
  the channel's own provider (seeds/sales_channels.csv), so the order nets to zero;
- every refund event of such an order, on the refund's business date, in the batch of the ORIGINAL
  order's entity, channel and location (a web order refunded in a store books in the web batch): refunds
  debited, the refund's provider's clearing credited. A refund of an order not in marts.orders books
  nothing (the exception queue's refund_without_order).

Accounts come from dbt_project/seeds/gl_sales_map.csv (a row naming the channel wins over the row for
every channel) and gl_settlement_map.csv (role clearing). Per journal, one signed net (debit positive)
per account, exact cents; a zero account is left out, and a journal with none is no journal.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from connectors.sandbox.world import BookedOrder, World, money

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
MONEY_IN = ("capture", "sale")  # the payment events that take the customer's money


def _read(seed: str) -> list[dict]:
    with (SEEDS / seed).open(newline="") as rows:
        return list(csv.DictReader(rows))


def _sales_accounts() -> dict[tuple[str, str], str]:
    """(channel, posting role) -> account; channel '' is the row for every channel."""
    return {(row["channel_id"], row["posting_role"]): row["account_code"] for row in _read("gl_sales_map.csv")}


def _clearing_accounts() -> dict[str, str]:
    """provider -> the clearing account its money passes through."""
    return {row["provider"]: row["account_code"] for row in _read("gl_settlement_map.csv")
            if row["posting_role"] == "clearing" and not row["fee_kind"]}


def _channel_providers() -> dict[str, str]:
    """channel -> the provider that collects its customers' money (what no payment event accounts for)."""
    return {row["channel_id"]: row["provider"] for row in _read("sales_channels.csv")}


def sales_journal_truth(world: World) -> list[dict]:
    """Every SALES journal the pipeline must post, sorted by (business_date, channel_id, location_id)."""
    sales_accounts, clearing, own_provider = _sales_accounts(), _clearing_accounts(), _channel_providers()

    def account(channel: str, role: str) -> str:
        return sales_accounts.get((channel, role)) or sales_accounts[("", role)]

    booked: dict[tuple[str, str], BookedOrder] = {(o.channel, o.order_id): o for o in world.sales_orders
                                                   if not o.voided}
    paid: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for event in world.order_payments:
        if event.event_type in MONEY_IN:
            paid[(event.channel, event.order_id)][event.provider] += event.gross_amount

    # (entity, channel, location, date) -> account -> signed net; and each journal's currency
    journals: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    currency: dict[tuple, str] = {}

    def batch(order: BookedOrder, day) -> dict[str, Decimal]:
        key = (world.location(order.location).legal_entity_id, order.channel, order.location, day)
        currency[key] = order.currency
        return journals[key]

    for key, order in booked.items():
        lines = batch(order, order.business_date)
        lines[account(order.channel, "revenue")] -= order.gross_sales
        lines[account(order.channel, "discounts")] += order.discount_total
        lines[account(order.channel, "shipping")] -= order.shipping_total
        lines[account(order.channel, "tax")] -= order.tax_total
        lines[account(order.channel, "tips")] -= order.tip_total
        owed = order.order_total + order.tip_total
        for provider, amount in paid[key].items():
            lines[clearing[provider]] += amount
            owed -= amount
        lines[clearing[own_provider[order.channel]]] += owed

    for event in world.order_payments:
        order = booked.get((event.channel, event.order_id))
        if event.event_type != "refund" or order is None:
            continue
        lines = batch(order, event.business_date)
        lines[account(order.channel, "refunds")] -= event.gross_amount
        lines[clearing[event.provider]] += event.gross_amount

    truth = []
    for key in sorted(journals, key=lambda k: (k[3], k[1], k[2], k[0])):
        entity, channel, location, day = key
        accounts = {code: money(amount) for code, amount in sorted(journals[key].items()) if amount}
        if accounts:
            truth.append({"legal_entity_id": entity, "channel_id": channel, "location_id": location,
                          "business_date": day.isoformat(), "currency": currency[key], "accounts": accounts})
    return truth
