"""How Stripe objects become rows of the raw_stripe tables.

Money stays as Stripe sends it: integer minor units (bigint) next to the currency (upper-cased
to ISO 4217, as the rest of omnirecon writes currencies); turning it into major units with the
currency's exponent is staging's job (connectors.stripe.models.currency_exponent knows it).
Timestamps are aware UTC datetimes (timestamptz). Expandable references hold the id.

A balance transaction does not name its payout: when it was listed with `?payout=po_...`, pass
that id as `payout_id` so the row keeps the link settlement matching needs. The daily pull lands
such pages under the stream `balance_transactions.<payout id>` (payout_stream()), so the raw
loader, which calls flatten(stream, payload) only, keeps the link without touching Stripe's
payload. A dispute embeds its balance transactions; the links go to `dispute_balance_transactions`.
"""
from __future__ import annotations

import json
from collections.abc import Callable

from pydantic import BaseModel

from connectors.stripe import models

SCHEMA = "raw_stripe"

RAW_TABLES: dict[str, dict[str, str]] = {
    "balance_transactions": {
        "id": "varchar", "type": "varchar", "reporting_category": "varchar", "status": "varchar",
        "currency": "varchar", "amount": "bigint", "fee": "bigint", "net": "bigint",
        "exchange_rate": "varchar", "source": "varchar", "payout_id": "varchar", "description": "varchar",
        "created": "timestamptz", "available_on": "timestamptz", "balance_type": "varchar",
    },
    "payouts": {
        "id": "varchar", "status": "varchar", "type": "varchar", "method": "varchar", "automatic": "boolean",
        "currency": "varchar", "amount": "bigint", "created": "timestamptz", "arrival_date": "timestamptz",
        "balance_transaction": "varchar", "failure_balance_transaction": "varchar", "failure_code": "varchar",
        "failure_message": "varchar", "destination": "varchar", "original_payout": "varchar",
        "reversed_by": "varchar", "reconciliation_status": "varchar", "source_type": "varchar",
        "description": "varchar", "statement_descriptor": "varchar",
    },
    "charges": {
        "id": "varchar", "status": "varchar", "currency": "varchar", "amount": "bigint",
        "amount_captured": "bigint", "amount_refunded": "bigint", "captured": "boolean", "paid": "boolean",
        "refunded": "boolean", "disputed": "boolean", "created": "timestamptz",
        "balance_transaction": "varchar", "failure_balance_transaction": "varchar", "failure_code": "varchar",
        "customer": "varchar", "payment_intent": "varchar", "payment_method": "varchar",
        "description": "varchar", "metadata": "varchar",
    },
    "refunds": {
        "id": "varchar", "status": "varchar", "reason": "varchar", "currency": "varchar", "amount": "bigint",
        "created": "timestamptz", "charge": "varchar", "payment_intent": "varchar",
        "balance_transaction": "varchar", "failure_balance_transaction": "varchar",
        "failure_reason": "varchar", "metadata": "varchar",
    },
    "disputes": {
        "id": "varchar", "status": "varchar", "reason": "varchar", "currency": "varchar", "amount": "bigint",
        "created": "timestamptz", "charge": "varchar", "payment_intent": "varchar",
        "is_charge_refundable": "boolean", "evidence_due_by": "timestamptz",
    },
    "dispute_balance_transactions": {
        "dispute_id": "varchar", "balance_transaction_id": "varchar", "type": "varchar",
        "currency": "varchar", "amount": "bigint", "fee": "bigint", "net": "bigint", "created": "timestamptz",
    },
}

# table -> SQL expression naming one business record (a charge landed on two days is 2 rows, 1 record)
RECORD_KEYS: dict[str, str] = {
    "balance_transactions": "id", "payouts": "id", "charges": "id", "refunds": "id", "disputes": "id",
    "dispute_balance_transactions": "balance_transaction_id",
}

PAYOUT_STREAM_SEPARATOR = "."  # Stripe ids are [A-Za-z0-9_]: the first dot splits stream and payout

Rows = dict[str, list[dict]]


def payout_stream(payout_id: str) -> str:
    """The landing stream of a payout's balance transactions: "balance_transactions.po_123"."""
    if not payout_id or PAYOUT_STREAM_SEPARATOR in payout_id or "/" in payout_id:
        raise ValueError(f"not a Stripe payout id: {payout_id!r}")
    return f"balance_transactions{PAYOUT_STREAM_SEPARATOR}{payout_id}"


def _value(column: str, record: BaseModel):
    value = getattr(record, column)
    if column == "currency":
        return value.upper()
    if column == "metadata":
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if column == "exchange_rate":
        return None if value is None else format(value, "f")
    return value


def _plain(table: str) -> Callable[[BaseModel], Rows]:
    columns = RAW_TABLES[table]

    def flatten(record: BaseModel, **context) -> Rows:
        return {table: [{c: context[c] if c in context else _value(c, record) for c in columns}]}

    return flatten


def _disputes(dispute: models.Dispute) -> Rows:
    row = {c: _value(c, dispute) for c in RAW_TABLES["disputes"] if c != "evidence_due_by"}
    row["evidence_due_by"] = dispute.evidence_details.due_by if dispute.evidence_details else None
    links = [{"dispute_id": dispute.id, "balance_transaction_id": bt.id, "type": bt.type,
              "currency": bt.currency.upper(), "amount": bt.amount, "fee": bt.fee, "net": bt.net,
              "created": bt.created} for bt in dispute.balance_transactions]
    return {"disputes": [row], "dispute_balance_transactions": links}


# stream -> (payload model, flattener). The stream's first table holds the full payload.
STREAMS: dict[str, tuple[type[BaseModel], Callable]] = {
    "balance_transactions": (models.BalanceTransaction, _plain("balance_transactions")),
    "payouts": (models.Payout, _plain("payouts")),
    "charges": (models.Charge, _plain("charges")),
    "refunds": (models.Refund, _plain("refunds")),
    "disputes": (models.Dispute, _disputes),
}


def flatten(stream: str, payload: dict, *, payout_id: str | None = None) -> Rows:
    """Validate one Stripe object and split it into raw table rows (raises pydantic.ValidationError).

    `payout_id` is for balance transactions listed by payout; it fills their payout_id column.
    A stream named by payout_stream() ("balance_transactions.po_123") carries that id itself.
    """
    base, separator, listed_payout = stream.partition(PAYOUT_STREAM_SEPARATOR)
    if separator:
        if base != "balance_transactions" or not listed_payout:
            raise ValueError(f"unknown Stripe stream {stream!r}")
        if payout_id not in (None, listed_payout):
            raise ValueError(f"stream {stream!r} belongs to payout {listed_payout}, not {payout_id}")
        stream, payout_id = base, listed_payout
    model, flattener = STREAMS[stream]
    record = model.model_validate(payload)
    if stream == "balance_transactions":
        return flattener(record, payout_id=payout_id)
    if payout_id is not None:
        raise ValueError(f"payout_id only applies to balance_transactions, not {stream}")
    return flattener(record)
