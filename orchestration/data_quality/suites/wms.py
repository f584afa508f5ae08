"""raw_wms: the 3PL's movement feed, inventory levels and end-of-day snapshot files.

A movement's quantity is its signed effect on on-hand: inbound types add stock, outbound types
take it. Levels and snapshots are whole units, never negative.
"""
from typing import get_args

from connectors.wms import raw_tables
from connectors.wms.models import MovementType
from connectors.wms.snapshot_file import QUANTITY_COLUMNS
from orchestration.data_quality.expectations import between, in_set, non_negative, not_null, where
from orchestration.data_quality.suites import SourceSuite

MOVEMENT_TYPES = get_args(MovementType)
INBOUND = ("receipt", "transfer_in", "return_receipt")
OUTBOUND = ("pick", "ship", "transfer_out")
MAX_UNITS = 1_000_000  # one movement or one level of one SKU at one location

SUITE = SourceSuite(raw=raw_tables, tables={
    "movements": [
        *not_null("event_id", "occurred_at", "sku", "location", "type", "quantity"),
        in_set("type", MOVEMENT_TYPES, "WMS movement type"),
        where(f"type in {list(INBOUND)}", between("quantity", min_value=0, meta="inbound movements add stock")),
        where(f"type in {list(OUTBOUND)}", between("quantity", max_value=0, meta="outbound movements take stock")),
        between("quantity", -MAX_UNITS, MAX_UNITS, meta=f"sane quantity: |units| <= {MAX_UNITS}"),
    ],
    "inventory_levels": [
        *not_null("sku", "location", "as_of", *QUANTITY_COLUMNS),
        *non_negative(*QUANTITY_COLUMNS),
        *(between(c, max_value=MAX_UNITS, meta="sane quantity") for c in QUANTITY_COLUMNS),
    ],
    "inventory_snapshots": [
        *not_null("sku", "location", "snapshot_at", "business_date", *QUANTITY_COLUMNS),
        *non_negative(*QUANTITY_COLUMNS),
        *(between(c, max_value=MAX_UNITS, meta="sane quantity") for c in QUANTITY_COLUMNS),
    ],
})
