"""Pydantic models of the 3PL WMS API payloads omnirecon reads.

The WMS API (see connectors/wms/client.py) serves two things:

- movement events, one per physical stock change at a location, each with a signed quantity (its
  effect on on-hand: receipts and returns positive, picks/ships/write-offs negative):
  `{"event_id": "MV-00000042", "sequence": 42, "occurred_at": "2026-11-02T14:03:00Z",
    "recorded_at": "...", "sku": "TEE-BLK-M", "location": "WH-NJ", "type": "ship", "quantity": -2,
    "reference": "#1001", "reason": null}`
- inventory levels per SKU and location, in the same quantity states as the daily snapshot file and
  named as Shopify names inventory states (available, committed, damaged, quality_control,
  incoming), plus on_hand and in_transit (transfers shipped to this location, not received yet).

ShipBob's Developer API 1.0 `/inventory` (vendor fixture shipbob/) reports the same states per
fulfillment center in camelCase (onHandQuantity, committedQuantity, fulfillableQuantity,
awaitingQuantity, internalTransferQuantity); `ShipBobInventory.levels()` maps one onto the other,
so a ShipBob-run 3PL can feed the same raw table.

Every model ignores fields it does not know: 3PLs add fields without notice.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MovementType = Literal["receipt", "adjustment", "pick", "ship", "transfer_out", "transfer_in", "return_receipt",
                       "damage"]


class WmsModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp has no UTC offset")
    return value


class MovementEvent(WmsModel):
    event_id: str = Field(min_length=1)
    sequence: int | None = None
    occurred_at: datetime
    recorded_at: datetime | None = None
    sku: str = Field(min_length=1)
    location: str = Field(min_length=1)
    type: MovementType
    quantity: int  # signed effect on on-hand
    reference: str | None = None
    reason: str | None = None

    _aware_times = field_validator("occurred_at", "recorded_at")(lambda cls, v: v if v is None else _aware(v))


class InventoryLevel(WmsModel):
    sku: str = Field(min_length=1)
    location: str = Field(min_length=1)
    as_of: datetime
    on_hand: int = Field(ge=0)
    available: int = Field(ge=0)
    committed: int = Field(0, ge=0)
    damaged: int = Field(0, ge=0)
    quality_control: int = Field(0, ge=0)
    in_transit: int = Field(0, ge=0)
    incoming: int = Field(0, ge=0)

    _aware_time = field_validator("as_of")(lambda cls, v: _aware(v))


# ---- ShipBob Developer API 1.0 inventory (camelCase, quantities per fulfillment center) ----------

class ShipBobFulfillmentCenterQuantity(WmsModel):
    fulfillment_center_id: int = Field(alias="fulfillmentCenterId")
    name: str | None = None
    on_hand: int = Field(0, alias="onHandQuantity")
    committed: int = Field(0, alias="committedQuantity")
    fulfillable: int = Field(0, alias="fulfillableQuantity")
    awaiting: int = Field(0, alias="awaitingQuantity")
    internal_transfer: int = Field(0, alias="internalTransferQuantity")


class ShipBobInventory(WmsModel):
    inventory_id: int = Field(alias="inventoryId")
    name: str | None = None
    is_active: bool = Field(True, alias="isActive")
    total_on_hand: int = Field(0, alias="totalOnHandQuantity")
    total_committed: int = Field(0, alias="totalCommitedQuantity")  # sic: ShipBob's spelling
    total_fulfillable: int = Field(0, alias="totalFulfillableQuantity")
    total_awaiting: int = Field(0, alias="totalAwaitingQuantity")
    total_internal_transfer: int = Field(0, alias="totalInternalTransferQuantity")
    by_fulfillment_center: list[ShipBobFulfillmentCenterQuantity] | None = Field(
        None, alias="fulfillableQuantityByFulfillmentCenter")

    def levels(self, *, sku: str, location_of: dict[int, str], as_of: datetime) -> list[InventoryLevel]:
        """Our inventory levels from ShipBob's per-centre quantities (location_of: centre id -> location code).

        ShipBob's on-hand includes units held for damage or QC, which it does not break out in 1.0:
        whatever is neither fulfillable nor committed is reported as quality_control.
        """
        levels = []
        for centre in self.by_fulfillment_center or []:
            held = max(centre.on_hand - centre.fulfillable - centre.committed, 0)
            levels.append(InventoryLevel(
                sku=sku, location=location_of[centre.fulfillment_center_id], as_of=as_of, on_hand=centre.on_hand,
                available=centre.fulfillable, committed=centre.committed, quality_control=held,
                in_transit=centre.internal_transfer, incoming=centre.awaiting))
        return levels
