"""How stored webhook events become rows of raw_webhooks.events.

One row per stored event file (the event store keeps one file per vendor and event id). The
payload column keeps the vendor's JSON as received, for staging to parse per topic; the other
columns are what every vendor's event has: who sent it, its id and topic, when it happened and
when we received it, the account it belongs to and the id of the resource it is about (Shopify
order or refund id, Stripe data.object id, Adyen pspReference). An event whose body does not
validate is quarantined by the loader with the reason.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from connectors.webhooks.models import AdyenNotificationItem, StoredEvent, StripeEvent

SCHEMA = "raw_webhooks"

RAW_TABLES: dict[str, dict[str, str]] = {
    "events": {
        "vendor": "varchar", "event_id": "varchar", "topic": "varchar", "received_at": "timestamptz",
        "occurred_at": "timestamptz", "account": "varchar", "resource_id": "varchar", "payload": "varchar",
    },
}
RECORD_KEYS: dict[str, str] = {"events": "vendor || ':' || event_id"}

Rows = dict[str, list[dict]]


def _header(stored: StoredEvent, name: str) -> str | None:
    return next((v for k, v in stored.headers.items() if k.lower() == name.lower()), None)


def _shopify(stored: StoredEvent) -> dict:
    triggered = _header(stored, "X-Shopify-Triggered-At")
    try:
        occurred = datetime.fromisoformat(triggered.replace("Z", "+00:00")) if triggered else None
    except ValueError:
        occurred = None  # a header we only keep for information: its absence or shape loses nothing
    return {"occurred_at": occurred if occurred is None or occurred.tzinfo else None,
            "account": _header(stored, "X-Shopify-Shop-Domain"), "resource_id": str(stored.parsed.id),
            "payload": stored.body}


def _stripe(stored: StoredEvent) -> dict:
    event: StripeEvent = stored.parsed
    return {"occurred_at": event.created, "account": event.account, "resource_id": event.resource_id,
            "payload": stored.body}


def _adyen(stored: StoredEvent) -> dict:
    item: AdyenNotificationItem = stored.parsed
    # The body is a batch; this event is one item of it.
    raw_item = json.loads(stored.body)["notificationItems"][stored.item_index]["NotificationRequestItem"]
    return {"occurred_at": item.eventDate, "account": item.merchantAccountCode, "resource_id": item.pspReference,
            "payload": json.dumps(raw_item, separators=(",", ":"))}


VENDORS = {"shopify": _shopify, "stripe": _stripe, "adyen": _adyen}


def flatten(stream: str, payload: dict) -> Rows:
    """Validate one stored event (raises pydantic.ValidationError) and make its raw row; stream = vendor."""
    stored = StoredEvent.model_validate(payload, context={"stream": stream})
    return {"events": [{"vendor": stored.vendor, "event_id": stored.event_id, "topic": stored.topic,
                        "received_at": stored.received_at, **VENDORS[stored.vendor](stored)}]}


def loaded_files(warehouse, folders: Iterable[Path] | None = None) -> set[str]:
    """The event files raw_webhooks has loaded already (EventStore.pending takes them); only those of `folders`
    (the event store's <vendor>/<received day> folders) when given."""
    if not _exists(warehouse, "_landed_files"):
        return set()
    sql, params = f"select landed_file from {SCHEMA}._landed_files", []
    if folders is not None:
        params = sorted({f"{folder.parent.name}/{folder.name}" for folder in folders})
        if not params:
            return set()
        sql += f" where stream || '/' || partition_key in ({', '.join('?' * len(params))})"
    return {path for (path,) in warehouse.fetchall(sql, params)}


def last_listing(warehouse) -> int | None:
    """When the listing of the last load of stored events began (`time.time_ns()`), None before the first."""
    if not _exists(warehouse, "_listings"):
        return None
    return warehouse.fetchall(f"select max(listed_at_ns) from {SCHEMA}._listings")[0][0]  # None when forgotten


def record_listing(warehouse, listed_at_ns: int) -> None:
    """Every file stored before `listed_at_ns` is loaded now: the next load need not list folders unchanged since."""
    warehouse.begin()
    warehouse.execute(f"create table if not exists {SCHEMA}._listings (listed_at_ns bigint, recorded_at timestamptz)")
    warehouse.execute(f"delete from {SCHEMA}._listings")  # only the last one counts: one row, whatever the history
    warehouse.execute(f"insert into {SCHEMA}._listings values (?, current_timestamp)", [listed_at_ns])
    warehouse.commit()


def forget_listings(warehouse) -> None:
    """The next load lists every folder again: for when loaded files are forgotten (a replay drops them)."""
    if _exists(warehouse, "_listings"):
        warehouse.execute(f"delete from {SCHEMA}._listings")


def _exists(warehouse, table: str) -> bool:
    return warehouse.fetchall("select count(*) from information_schema.tables "
                              "where table_schema = ? and table_name = ?", [SCHEMA, table])[0][0] > 0
