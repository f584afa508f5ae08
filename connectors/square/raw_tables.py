"""How Square payloads and dropped Z reports become rows of the raw_square tables.

API extracts (streams orders, payments, refunds, locations) are flattened by `flatten`; the
stores' end-of-day Z reports dropped in `pos_z_reports/` are read by `parse_file` into
`z_reports`. Values stay as Square gives them: money as integer minor units beside its currency
(exact), quantities as exact decimals, timestamps as UTC. An order brings its line items, tenders
and returned lines; each child row carries its order's version (`order_updated_at`) so that
staging can pick the children of the latest version. A return of a web order (no Square source
order) keeps the web order's id and name from the return order's metadata. The retailer names
each catalog variation by its SKU, so `variation_name` is the SKU where no line metadata says otherwise.
"""
from __future__ import annotations

import json
from collections.abc import Callable

from pydantic import BaseModel

from connectors.square import models, z_report
from connectors.square.models import amount_of

SCHEMA = "raw_square"

RAW_TABLES: dict[str, dict[str, str]] = {
    "locations": {
        "id": "varchar", "name": "varchar", "business_name": "varchar", "description": "varchar",
        "timezone": "varchar", "status": "varchar", "type": "varchar", "currency": "varchar", "country": "varchar",
        "merchant_id": "varchar", "created_at": "timestamptz", "locality": "varchar", "region": "varchar",
    },
    "orders": {
        "id": "varchar", "location_id": "varchar", "reference_id": "varchar", "customer_id": "varchar",
        "state": "varchar", "version": "integer", "created_at": "timestamptz", "updated_at": "timestamptz",
        "closed_at": "timestamptz", "ticket_name": "varchar", "source_name": "varchar", "currency": "varchar",
        "total_money": "bigint", "total_tax_money": "bigint", "total_discount_money": "bigint",
        "total_tip_money": "bigint", "return_total_money": "bigint", "return_tax_money": "bigint",
        "return_discount_money": "bigint", "net_total_money": "bigint",
        "returned_channel": "varchar", "returned_order_id": "varchar", "returned_order_name": "varchar",
        "metadata": "varchar",
    },
    "order_line_items": {
        "uid": "varchar", "order_id": "varchar", "order_updated_at": "timestamptz", "name": "varchar",
        "variation_name": "varchar", "catalog_object_id": "varchar", "sku": "varchar", "quantity": "numeric(18,4)",
        "currency": "varchar", "base_price_money": "bigint", "gross_sales_money": "bigint",
        "total_discount_money": "bigint", "total_tax_money": "bigint", "total_money": "bigint",
    },
    "order_tenders": {
        "id": "varchar", "order_id": "varchar", "order_updated_at": "timestamptz", "location_id": "varchar",
        "type": "varchar", "payment_id": "varchar", "created_at": "timestamptz", "currency": "varchar",
        "amount_money": "bigint", "tip_money": "bigint", "card_brand": "varchar", "note": "varchar",
    },
    # one row per returned line: the return order, the order and line it takes back
    "order_returns": {
        "uid": "varchar", "return_uid": "varchar", "order_id": "varchar", "order_updated_at": "timestamptz",
        "source_order_id": "varchar", "source_line_item_uid": "varchar", "name": "varchar", "sku": "varchar",
        "catalog_object_id": "varchar", "quantity": "numeric(18,4)", "currency": "varchar",
        "base_price_money": "bigint", "gross_return_money": "bigint", "total_discount_money": "bigint",
        "total_tax_money": "bigint", "total_money": "bigint",
    },
    "payments": {
        "id": "varchar", "order_id": "varchar", "location_id": "varchar", "created_at": "timestamptz",
        "updated_at": "timestamptz", "status": "varchar", "source_type": "varchar", "currency": "varchar",
        "amount_money": "bigint", "tip_money": "bigint", "total_money": "bigint", "app_fee_money": "bigint",
        "processing_fee_money": "bigint", "refunded_money": "bigint", "external_type": "varchar",
        "external_source": "varchar", "external_source_id": "varchar", "card_brand": "varchar",
        "card_last_4": "varchar", "cash_buyer_supplied_money": "bigint", "cash_change_back_money": "bigint",
        "receipt_number": "varchar", "reference_id": "varchar", "customer_id": "varchar", "note": "varchar",
    },
    "refunds": {
        "id": "varchar", "payment_id": "varchar", "order_id": "varchar", "location_id": "varchar",
        "status": "varchar", "unlinked": "boolean", "destination_type": "varchar", "external_type": "varchar",
        "external_source": "varchar", "external_source_id": "varchar", "currency": "varchar",
        "amount_money": "bigint", "processing_fee_money": "bigint", "reason": "varchar",
        "created_at": "timestamptz", "updated_at": "timestamptz",
    },
    "z_reports": z_report.RAW_COLUMNS,
}

# One business record per table (a record fetched in two versions is two raw rows, one record).
RECORD_KEYS: dict[str, str] = {
    "locations": "id",
    "orders": "id",
    "order_line_items": "order_id || '/' || uid",
    "order_tenders": "id",
    "order_returns": "order_id || '/' || uid",
    "payments": "id",
    "refunds": "id",
    "z_reports": "report_line_id",
}

Rows = dict[str, list[dict]]


def _currency(*moneys: models.Money | None) -> str | None:
    return next((money.currency for money in moneys if money is not None), None)


def _locations(location: models.Location) -> Rows:
    address = location.address or models.Address()
    return {"locations": [{
        "id": location.id, "name": location.name, "business_name": location.business_name,
        "description": location.description, "timezone": location.timezone, "status": location.status,
        "type": location.type, "currency": location.currency, "country": location.country,
        "merchant_id": location.merchant_id, "created_at": location.created_at, "locality": address.locality,
        "region": address.administrative_district_level_1,
    }]}


def _orders(order: models.Order) -> Rows:
    version = order.updated_at
    returned = order.return_amounts or models.OrderMoneyAmounts()
    metadata = order.metadata or {}
    rows: Rows = {
        "orders": [{
            "id": order.id, "location_id": order.location_id, "reference_id": order.reference_id,
            "customer_id": order.customer_id, "state": order.state, "version": order.version,
            "created_at": order.created_at, "updated_at": order.updated_at, "closed_at": order.closed_at,
            "ticket_name": order.ticket_name, "source_name": order.source.name if order.source else None,
            "currency": order.currency, "total_money": amount_of(order.total_money),
            "total_tax_money": amount_of(order.total_tax_money),
            "total_discount_money": amount_of(order.total_discount_money),
            "total_tip_money": amount_of(order.total_tip_money),
            "return_total_money": amount_of(returned.total_money), "return_tax_money": amount_of(returned.tax_money),
            "return_discount_money": amount_of(returned.discount_money),
            "net_total_money": amount_of(order.net_amounts.total_money) if order.net_amounts else None,
            "returned_channel": metadata.get("returned_channel"),
            "returned_order_id": metadata.get("returned_order_id"),
            "returned_order_name": metadata.get("returned_order_name"),
            "metadata": json.dumps(metadata, sort_keys=True) if metadata else None,
        }],
        "order_line_items": [{
            "uid": li.uid, "order_id": order.id, "order_updated_at": version, "name": li.name,
            "variation_name": li.variation_name, "catalog_object_id": li.catalog_object_id,
            "sku": li.sku or li.variation_name,
            "quantity": li.quantity, "currency": _currency(li.total_money, li.base_price_money),
            "base_price_money": amount_of(li.base_price_money), "gross_sales_money": amount_of(li.gross_sales_money),
            "total_discount_money": amount_of(li.total_discount_money),
            "total_tax_money": amount_of(li.total_tax_money), "total_money": amount_of(li.total_money),
        } for li in order.line_items],
        "order_tenders": [{
            "id": tender.id, "order_id": order.id, "order_updated_at": version,
            "location_id": tender.location_id or order.location_id, "type": tender.type,
            "payment_id": tender.payment_id, "created_at": tender.created_at,
            "currency": _currency(tender.amount_money, tender.tip_money),
            "amount_money": amount_of(tender.amount_money), "tip_money": amount_of(tender.tip_money),
            "card_brand": tender.card_details.card.card_brand
            if tender.card_details and tender.card_details.card else None,
            "note": tender.note,
        } for tender in order.tenders],
        "order_returns": [],
    }
    for order_return in order.returns:
        rows["order_returns"] += [{
            "uid": line.uid, "return_uid": order_return.uid, "order_id": order.id, "order_updated_at": version,
            "source_order_id": order_return.source_order_id, "source_line_item_uid": line.source_line_item_uid,
            "name": line.name, "sku": line.variation_name,
            "catalog_object_id": line.catalog_object_id, "quantity": line.quantity,
            "currency": _currency(line.total_money, line.base_price_money),
            "base_price_money": amount_of(line.base_price_money),
            "gross_return_money": amount_of(line.gross_return_money),
            "total_discount_money": amount_of(line.total_discount_money),
            "total_tax_money": amount_of(line.total_tax_money), "total_money": amount_of(line.total_money),
        } for line in order_return.return_line_items]
    return rows


def _payments(payment: models.Payment) -> Rows:
    external = payment.external_details
    card = payment.card_details.card if payment.card_details else None
    cash = payment.cash_details
    return {"payments": [{
        "id": payment.id, "order_id": payment.order_id, "location_id": payment.location_id,
        "created_at": payment.created_at, "updated_at": payment.updated_at, "status": payment.status,
        "source_type": payment.source_type, "currency": payment.amount_money.currency,
        "amount_money": payment.amount_money.amount, "tip_money": amount_of(payment.tip_money),
        "total_money": amount_of(payment.total_money), "app_fee_money": amount_of(payment.app_fee_money),
        "processing_fee_money": payment.processing_fee_amount, "refunded_money": amount_of(payment.refunded_money),
        "external_type": external.type if external else None, "external_source": external.source if external else None,
        "external_source_id": external.source_id if external else None,
        "card_brand": card.card_brand if card else None, "card_last_4": card.last_4 if card else None,
        "cash_buyer_supplied_money": cash.buyer_supplied_money.amount if cash else None,
        "cash_change_back_money": amount_of(cash.change_back_money) if cash else None,
        "receipt_number": payment.receipt_number, "reference_id": payment.reference_id,
        "customer_id": payment.customer_id, "note": payment.note,
    }]}


def _refunds(refund: models.PaymentRefund) -> Rows:
    external = refund.destination_details.external_details if refund.destination_details else None
    return {"refunds": [{
        "id": refund.id, "payment_id": refund.payment_id, "order_id": refund.order_id,
        "location_id": refund.location_id, "status": refund.status, "unlinked": refund.unlinked,
        "destination_type": refund.destination_type, "external_type": external.type if external else None,
        "external_source": external.source if external else None,
        "external_source_id": external.source_id if external else None,
        "currency": refund.amount_money.currency, "amount_money": refund.amount_money.amount,
        "processing_fee_money": refund.processing_fee_amount, "reason": refund.reason,
        "created_at": refund.created_at, "updated_at": refund.updated_at,
    }]}


# stream -> (payload model, flattener)
STREAMS: dict[str, tuple[type[BaseModel], Callable]] = {
    "locations": (models.Location, _locations),
    "orders": (models.Order, _orders),
    "payments": (models.Payment, _payments),
    "refunds": (models.PaymentRefund, _refunds),
}


def flatten(stream: str, payload: dict) -> Rows:
    """Validate one Square payload and split it into raw table rows (raises pydantic.ValidationError)."""
    model, flattener = STREAMS[stream]
    return flattener(model.model_validate(payload))


# How the raw loader reads a landed Z report file (connectors/raw_load.py).
FILE_TABLE = z_report.FILE_TABLE
parse_file = z_report.parse_z_report
