"""ShipBob's Developer API 1.0 inventory schema (vendor fixture shipbob/) against the WMS models.

The fixture is ShipBob's OpenAPI schema without examples, so the contract is checked both ways:
every ShipBob field the models read exists in ShipBob's schema with the type the model expects,
and a payload built from the schema (every property, per its declared type) validates and maps onto
omnirecon's inventory level states.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from connectors.wms.models import InventoryLevel, ShipBobFulfillmentCenterQuantity, ShipBobInventory
from tests.vendor_fixtures import vendor_fixture

SPEC = json.loads(vendor_fixture("shipbob", "openapi_1.0_inventory_orders_subset.json").read_text())
SCHEMAS = SPEC["components"]["schemas"]
PY_TYPES = {"integer": int, "boolean": bool, "string": str}


def _payload(schema_name: str, seed: int) -> dict:
    """One value per property, as the schema types it (nested $refs and arrays followed)."""
    payload = {}
    for n, (name, prop) in enumerate(SCHEMAS[schema_name]["properties"].items()):
        if "$ref" in prop:
            ref = prop["$ref"].rsplit("/", 1)[1]
            payload[name] = _payload(ref, seed + n) if "properties" in SCHEMAS.get(ref, {}) else {}
        elif prop.get("type") == "array":
            ref = prop["items"].get("$ref", "").rsplit("/", 1)[-1]
            payload[name] = [_payload(ref, seed + n + k) for k in range(2)] if ref in SCHEMAS else []
        elif prop.get("type") == "integer":
            payload[name] = 10 * (seed + n + 1)
        elif prop.get("type") == "boolean":
            payload[name] = True
        elif prop.get("format") == "date-time":
            payload[name] = "2026-11-02T23:59:59+00:00"
        else:
            payload[name] = f"{name}-{seed}"
    return payload


@pytest.mark.parametrize("model, schema_name", [
    (ShipBobInventory, "Inventory"),
    (ShipBobFulfillmentCenterQuantity, "InventoryFulfillmentCenterQuantity"),
])
def test_every_field_the_models_read_is_in_shipbobs_schema_with_that_type(model, schema_name):
    properties = SCHEMAS[schema_name]["properties"]
    for attribute, field in model.model_fields.items():
        name = field.alias or attribute  # `name` is ShipBob's own field name
        assert name in properties, f"{schema_name} has no {name}"
        declared = properties[name].get("type")
        if declared in PY_TYPES:
            assert PY_TYPES[declared] in (getattr(field.annotation, "__args__", None) or (field.annotation,)), name
        else:
            assert properties[name].get("type") == "array"


def test_the_inventory_list_endpoint_answers_an_array_of_inventory_paged_by_page_and_limit():
    get = SPEC["paths"]["/1.0/inventory"]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"].endswith("/Inventory")
    assert {"Page", "Limit"} <= {p["name"] for p in get["parameters"]}
    assert "oauth2" in get["security"][0]


def test_a_payload_built_from_the_schema_maps_onto_inventory_level_states():
    payload = _payload("Inventory", 0)
    inventory = ShipBobInventory.model_validate(payload)
    assert inventory.total_committed == payload["totalCommitedQuantity"]  # ShipBob's own spelling
    centres = payload["fulfillableQuantityByFulfillmentCenter"]
    location_of = {c["fulfillmentCenterId"]: f"FC-{i}" for i, c in enumerate(centres)}
    as_of = datetime(2026, 11, 3, 4, 59, 59, tzinfo=timezone.utc)
    levels = inventory.levels(sku="TEE-BLK-M", location_of=location_of, as_of=as_of)
    assert [level.location for level in levels] == ["FC-0", "FC-1"]
    for level, centre in zip(levels, centres):
        assert isinstance(level, InventoryLevel)
        assert (level.on_hand, level.available, level.committed, level.incoming, level.in_transit) == (
            centre["onHandQuantity"], centre["fulfillableQuantity"], centre["committedQuantity"],
            centre["awaitingQuantity"], centre["internalTransferQuantity"])
        assert level.quality_control == max(centre["onHandQuantity"] - centre["fulfillableQuantity"]
                                            - centre["committedQuantity"], 0)
