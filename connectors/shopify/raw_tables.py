"""How Shopify payloads become rows of the raw_shopify tables.

Raw tables keep the vendor's values as given (money as exact decimal text, timestamps with
their offset normalised to UTC); renaming and casting belong to dbt staging. One payload can
feed several tables (an order brings its line items, refunds and refund lines), and every row
of a child table carries its parent's version (`order_updated_at`) so that staging can pick
the children of the latest order version.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from pydantic import BaseModel

from connectors.shopify import models

SCHEMA = "raw_shopify"

# column -> SQL type, the same on DuckDB and PostgreSQL. Money is text: casting is staging's job.
RAW_TABLES: dict[str, dict[str, str]] = {
    "orders": {
        "id": "bigint", "name": "varchar", "email": "varchar", "created_at": "timestamptz",
        "updated_at": "timestamptz", "processed_at": "timestamptz", "cancelled_at": "timestamptz",
        "currency": "varchar", "taxes_included": "boolean", "financial_status": "varchar",
        "source_name": "varchar", "subtotal_price": "varchar", "total_discounts": "varchar",
        "total_tax": "varchar", "total_price": "varchar", "total_shipping": "varchar",
    },
    "order_line_items": {
        "id": "bigint", "order_id": "bigint", "order_updated_at": "timestamptz", "sku": "varchar",
        "title": "varchar", "quantity": "integer", "price": "varchar", "discount_amount": "varchar",
        "tax_amount": "varchar",
    },
    "refunds": {
        "id": "bigint", "order_id": "bigint", "order_updated_at": "timestamptz",
        "created_at": "timestamptz", "processed_at": "timestamptz", "note": "varchar", "restock": "boolean",
    },
    "refund_line_items": {
        "id": "bigint", "refund_id": "bigint", "order_id": "bigint", "order_updated_at": "timestamptz",
        "line_item_id": "bigint", "quantity": "integer", "subtotal": "varchar", "total_tax": "varchar",
    },
    "refund_order_adjustments": {
        "id": "bigint", "refund_id": "bigint", "order_id": "bigint", "order_updated_at": "timestamptz",
        "kind": "varchar", "amount": "varchar", "tax_amount": "varchar",
    },
    "transactions": {
        "id": "bigint", "order_id": "bigint", "kind": "varchar", "status": "varchar", "gateway": "varchar",
        "amount": "varchar", "currency": "varchar", "created_at": "timestamptz",
        "processed_at": "timestamptz", "parent_id": "bigint", "authorization": "varchar",
    },
    "payouts": {
        "id": "bigint", "status": "varchar", "date": "date", "currency": "varchar", "amount": "varchar",
    },
    "balance_transactions": {
        "id": "bigint", "type": "varchar", "payout_id": "bigint", "payout_status": "varchar",
        "currency": "varchar", "amount": "varchar", "fee": "varchar", "net": "varchar",
        "source_id": "bigint", "source_type": "varchar", "source_order_id": "bigint",
        "source_order_transaction_id": "bigint", "processed_at": "timestamptz",
        "adjustment_reason": "varchar",
    },
}

# What identifies one business record in each table (a record landed in two versions is two rows).
RECORD_KEYS: dict[str, str] = {table: "id" for table in RAW_TABLES}

Rows = dict[str, list[dict]]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _orders(order: models.Order) -> Rows:
    version = order.updated_at
    rows: Rows = {
        "orders": [{
            "id": order.id, "name": order.name, "email": order.email, "created_at": order.created_at,
            "updated_at": order.updated_at, "processed_at": order.processed_at,
            "cancelled_at": order.cancelled_at, "currency": order.currency,
            "taxes_included": order.taxes_included, "financial_status": order.financial_status,
            "source_name": order.source_name, "subtotal_price": _money(order.subtotal_price),
            "total_discounts": _money(order.total_discounts), "total_tax": _money(order.total_tax),
            "total_price": _money(order.total_price), "total_shipping": _money(order.shipping_amount),
        }],
        "order_line_items": [{
            "id": li.id, "order_id": order.id, "order_updated_at": version, "sku": li.sku,
            "title": li.title, "quantity": li.quantity, "price": _money(li.price),
            "discount_amount": _money(li.discount_amount), "tax_amount": _money(li.tax_amount),
        } for li in order.line_items],
        "refunds": [], "refund_line_items": [], "refund_order_adjustments": [],
    }
    for refund in order.refunds:
        rows["refunds"].append({
            "id": refund.id, "order_id": order.id, "order_updated_at": version,
            "created_at": refund.created_at, "processed_at": refund.processed_at,
            "note": refund.note, "restock": refund.restock,
        })
        rows["refund_line_items"] += [{
            "id": rli.id, "refund_id": refund.id, "order_id": order.id, "order_updated_at": version,
            "line_item_id": rli.line_item_id, "quantity": rli.quantity,
            "subtotal": _money(rli.subtotal), "total_tax": _money(rli.total_tax),
        } for rli in refund.refund_line_items]
        rows["refund_order_adjustments"] += [{
            "id": adj.id, "refund_id": refund.id, "order_id": order.id, "order_updated_at": version,
            "kind": adj.kind, "amount": _money(adj.amount), "tax_amount": _money(adj.tax_amount),
        } for adj in refund.order_adjustments]
    return rows


def _order_transactions(order: models.BulkOrderTransactions) -> Rows:
    """A bulk line's transactions as the same rows their REST form gives (REST's lower-case kind and status)."""
    return {"transactions": [{
        "id": txn.id, "order_id": order.id, "kind": txn.kind.lower(), "status": txn.status.lower(),
        "gateway": txn.gateway, "amount": _money(txn.amountSet.shopMoney.amount),
        "currency": txn.amountSet.shopMoney.currencyCode, "created_at": txn.createdAt,
        "processed_at": txn.processedAt, "parent_id": txn.parentTransaction.id if txn.parentTransaction else None,
        "authorization": txn.authorizationCode,
    } for txn in order.transactions]}


def _plain(table: str) -> Callable[[BaseModel], Rows]:
    columns = RAW_TABLES[table]

    def flatten(record: BaseModel) -> Rows:
        row = {c: getattr(record, c) for c in columns}
        return {table: [{c: _money(v) if isinstance(v, Decimal) else v for c, v in row.items()}]}

    return flatten


# stream -> (payload model, flattener). The stream's first table holds the full payload.
STREAMS: dict[str, tuple[type[BaseModel], Callable]] = {
    "orders": (models.Order, _orders),
    "transactions": (models.Transaction, _plain("transactions")),
    "order_transactions": (models.BulkOrderTransactions, _order_transactions),  # GraphQL bulk lines
    "payouts": (models.Payout, _plain("payouts")),
    "balance_transactions": (models.BalanceTransaction, _plain("balance_transactions")),
}


def flatten(stream: str, payload: dict) -> Rows:
    """Validate one vendor payload and split it into raw table rows (raises pydantic.ValidationError)."""
    model, flattener = STREAMS[stream]
    return flattener(model.model_validate(payload))
