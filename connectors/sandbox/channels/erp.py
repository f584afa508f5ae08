"""The ERP in the sandbox world: its item master, legal entities, locations and chart of accounts.

The ERP is the system of record for reference data: the items are the world's catalog at its
standard cost, the legal entities and locations are the world's, and the chart of accounts below
is what posting batches are booked to; dbt_project/seeds/gl_accounts.csv is a copy of it. Clearing accounts hold money a
provider owes the retailer between the sale and the payout; fee accounts are expenses per kind.

Ground truth: world.count("erp", "items" | "legal_entities" | "locations" | "gl_accounts", n).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from connectors.sandbox.world import World

SOURCE = "erp"
# A fixed "last modified" for the reference data: it did not change during the simulated window.
MASTER_DATA_AS_OF = datetime(2026, 10, 1, 6, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class GlAccountDef:
    code: str
    name: str
    account_type: str  # asset, liability, equity, revenue, expense
    legal_entity_id: str | None = None  # None: the account is global (shared by every entity)


CHART_OF_ACCOUNTS: tuple[GlAccountDef, ...] = (
    GlAccountDef("1010", "Bank operating", "asset", "US01"),
    GlAccountDef("1050", "POS cash on hand", "asset", "US01"),
    GlAccountDef("1150", "Shopify Payments clearing", "asset"),
    GlAccountDef("1160", "Stripe clearing", "asset"),
    GlAccountDef("1170", "Adyen clearing", "asset"),
    GlAccountDef("1180", "Amazon clearing", "asset"),
    GlAccountDef("1190", "Marketplace clearing", "asset"),
    GlAccountDef("1195", "Reserves held by payment providers", "asset"),
    GlAccountDef("1198", "Payouts in transit", "asset"),
    GlAccountDef("1300", "Inventory", "asset"),
    GlAccountDef("2150", "Gift card liability", "liability"),
    GlAccountDef("2160", "Tips payable", "liability"),
    GlAccountDef("2200", "Sales tax payable", "liability"),
    GlAccountDef("3000", "Retained earnings", "equity"),
    GlAccountDef("4000", "Product revenue", "revenue"),
    GlAccountDef("4100", "Shipping income", "revenue"),
    GlAccountDef("4200", "Discounts", "revenue"),  # contra revenue: debited
    GlAccountDef("4300", "Refunds and returns", "revenue"),  # contra revenue: debited
    GlAccountDef("5000", "Cost of goods sold", "expense"),
    GlAccountDef("5100", "Inventory shrinkage and damage", "expense"),
    GlAccountDef("6150", "Payment processing fees", "expense"),
    GlAccountDef("6160", "Marketplace commissions", "expense"),
    GlAccountDef("6170", "Amazon selling fees", "expense"),
    GlAccountDef("6175", "Shipping labels", "expense"),
    GlAccountDef("6180", "Chargeback fees", "expense"),
    GlAccountDef("6185", "Advertising", "expense"),
    GlAccountDef("6190", "PSP adjustments", "expense"),
    GlAccountDef("6195", "Chargeback losses", "expense"),
)


@dataclass
class ErpSandbox:
    """The ERP's collections as its API serves them (payload dicts), and the journal batches posted to it."""
    items: list[dict]
    legal_entities: list[dict]
    locations: list[dict]
    gl_accounts: list[dict]
    journal_batches: dict[str, dict] = field(default_factory=dict)  # batch id -> the ERP's answer

    def collection(self, resource: str) -> list[dict]:
        return {"items": self.items, "legal-entities": self.legal_entities, "locations": self.locations,
                "gl-accounts": self.gl_accounts}[resource]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def reference_data(world: World) -> ErpSandbox:
    """The ERP's payloads for this world, without touching the ground truth (see simulate)."""
    entity_country = {entity.legal_entity_id: entity.country for entity in world.legal_entities}
    currency = world.legal_entities[0].functional_currency
    return ErpSandbox(
        items=[{"sku": item.sku, "description": item.title, "unitCost": format(item.unit_cost, "f"),
                "costCurrency": currency, "taxCode": item.tax_code, "barcode": item.barcode, "active": True,
                "lastModifiedDateTime": _iso(MASTER_DATA_AS_OF)} for item in world.catalog],
        legal_entities=[{"id": e.legal_entity_id, "name": e.name, "functionalCurrency": e.functional_currency,
                         "timeZone": e.time_zone, "country": e.country} for e in world.legal_entities],
        locations=[{"code": loc.code, "name": loc.name, "kind": loc.kind, "timeZone": loc.time_zone,
                    "legalEntityId": loc.legal_entity_id,
                    "address": {"city": loc.city, "region": loc.region,
                                "country": entity_country.get(loc.legal_entity_id)}} for loc in world.locations],
        gl_accounts=[{"accountCode": a.code, "name": a.name, "accountType": a.account_type,
                      "legalEntityId": a.legal_entity_id, "active": True} for a in CHART_OF_ACCOUNTS],
    )


def simulate(world: World) -> ErpSandbox:
    sandbox = reference_data(world)
    for stream, records in (("items", sandbox.items), ("legal_entities", sandbox.legal_entities),
                            ("locations", sandbox.locations), ("gl_accounts", sandbox.gl_accounts)):
        world.count(SOURCE, stream, len(records))
    return sandbox
