"""How WMS payloads and snapshot files become rows of the raw_wms tables.

Two kinds of input land for the source "wms":
- API extracts (JSON pages): stream "movements" (the movement feed) and stream "inventory_levels"
  (levels as the API reports them at pull time), read with `flatten`;
- dropped files: the daily inventory snapshot CSVs from the inbox folder `wms_snapshots/`, read
  with `parse_file` into `inventory_snapshots` (FILE_TABLE).

A movement event is immutable once recorded (a correction is a new event), so its key is the
event id; a level or snapshot is one SKU at one location at one moment.
"""
from __future__ import annotations

from connectors.wms import models, snapshot_file

SCHEMA = "raw_wms"

RAW_TABLES: dict[str, dict[str, str]] = {
    "movements": {
        "event_id": "varchar", "sequence": "bigint", "occurred_at": "timestamptz", "recorded_at": "timestamptz",
        "sku": "varchar", "location": "varchar", "type": "varchar", "quantity": "integer",
        "reference": "varchar", "reason": "varchar",
    },
    "inventory_levels": {
        "sku": "varchar", "location": "varchar", "as_of": "timestamptz",
        **{column: "integer" for column in snapshot_file.QUANTITY_COLUMNS},
    },
    "inventory_snapshots": snapshot_file.COLUMNS,
}

# table -> SQL expression naming one business record (count(distinct ...) is the record count)
RECORD_KEYS: dict[str, str] = {
    "movements": "event_id",
    "inventory_levels": "location || '|' || sku || '|' || cast(as_of as varchar)",
    "inventory_snapshots": "location || '|' || sku || '|' || cast(business_date as varchar)",
}

STREAMS: dict[str, tuple[type[models.WmsModel], str]] = {
    "movements": (models.MovementEvent, "movements"),
    "inventory_levels": (models.InventoryLevel, "inventory_levels"),
}

Rows = dict[str, list[dict]]


def flatten(stream: str, payload: dict) -> Rows:
    """Validate one API payload and turn it into its raw row (raises pydantic.ValidationError)."""
    model, table = STREAMS[stream]
    record = model.model_validate(payload)
    return {table: [{column: getattr(record, column) for column in RAW_TABLES[table]}]}


# How the raw loader reads a landed snapshot file (connectors/raw_load.py).
FILE_TABLE = "inventory_snapshots"
parse_file = snapshot_file.parse_snapshot
