"""How ERP reference data becomes rows of the raw_erp tables.

Reference data is landed as a full snapshot on every pull (streams items, legal_entities,
locations, gl_accounts; source "erp"), so a record appears once per pull in which it changed
(rows are deduplicated by content) and staging keeps its latest version. Unit costs stay exact
(numeric(18,4) with their currency); a GL account without a legal entity is global.
"""
from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from connectors.erp import models

SCHEMA = "raw_erp"

RAW_TABLES: dict[str, dict[str, str]] = {
    "items": {
        "sku": "varchar", "description": "varchar", "unit_cost": "numeric(18,4)", "cost_currency": "varchar",
        "tax_code": "varchar", "barcode": "varchar", "active": "boolean", "modified_at": "timestamptz",
    },
    "legal_entities": {
        "legal_entity_id": "varchar", "name": "varchar", "functional_currency": "varchar", "time_zone": "varchar",
        "country": "varchar",
    },
    "locations": {
        "code": "varchar", "name": "varchar", "kind": "varchar", "time_zone": "varchar",
        "legal_entity_id": "varchar", "city": "varchar", "region": "varchar", "country": "varchar",
    },
    "gl_accounts": {
        "account_code": "varchar", "name": "varchar", "account_type": "varchar", "legal_entity_id": "varchar",
        "active": "boolean",
    },
}

# table -> SQL expression naming one business record (count(distinct ...) is the record count)
RECORD_KEYS: dict[str, str] = {
    "items": "sku",
    "legal_entities": "legal_entity_id",
    "locations": "code",
    "gl_accounts": "coalesce(legal_entity_id, '*') || '|' || account_code",
}

Rows = dict[str, list[dict]]


def _plain(table: str) -> Callable[[BaseModel], Rows]:
    def flatten(record: BaseModel) -> Rows:
        return {table: [{column: getattr(record, column) for column in RAW_TABLES[table]}]}
    return flatten


def _location(location: models.Location) -> Rows:
    return {"locations": [{
        "code": location.code, "name": location.name, "kind": location.kind, "time_zone": location.time_zone,
        "legal_entity_id": location.legal_entity_id, "city": location.address.city,
        "region": location.address.region, "country": location.address.country,
    }]}


# stream (landing) -> (API resource, payload model, flattener)
STREAMS: dict[str, tuple[str, type[BaseModel], Callable[[BaseModel], Rows]]] = {
    "items": ("items", models.Item, _plain("items")),
    "legal_entities": ("legal-entities", models.LegalEntity, _plain("legal_entities")),
    "locations": ("locations", models.Location, _location),
    "gl_accounts": ("gl-accounts", models.GlAccount, _plain("gl_accounts")),
}


def flatten(stream: str, payload: dict) -> Rows:
    """Validate one ERP payload and turn it into its raw row (raises pydantic.ValidationError)."""
    _, model, flattener = STREAMS[stream]
    return flattener(model.model_validate(payload))
