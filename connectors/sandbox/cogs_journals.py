"""Ground truth of the COGS journals: the cost of what the locations shipped, less what customers restocked.

One journal per (legal entity, business date, location): the location's stock movements of that business
date (the date of the movement in the LOCATION's time zone) among the events the pipeline lands
(`WmsSandbox.events_in_window`), valued at the ERP's item cost (the catalog's `unit_cost`, which the ERP
simulation serves as unitCost):

- cost of goods sold (5000) is debited with cost x units of every `ship` event (its quantity is negative:
  units = -quantity) and credited with cost x units of every `return_receipt` whose reason is
  "customer return" (restocked); a damaged return ("customer return, damaged") is not restocked and
  reverses nothing. Other movement types (receipts, transfers, damage, adjustments) are not COGS.
- inventory (1300) takes the opposite side.

Per journal, one net amount per account (debit positive), rounded half up to cents after summing the exact
unit costs x units; a journal whose net is zero is left out. The legal entity is the location's, the
currency the entity's functional currency.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from connectors.sandbox.world import World, cents, money

COGS_ACCOUNT = "5000"
INVENTORY_ACCOUNT = "1300"
RESTOCKED_RETURN_REASON = "customer return"


def _cost_effect(event: dict, unit_cost: dict[str, Decimal]) -> Decimal:
    """The COGS debit (positive) or credit (negative) of one movement event, at exact unit cost."""
    if event["type"] == "ship":
        return unit_cost[event["sku"]] * -int(event["quantity"])
    if event["type"] == "return_receipt" and event.get("reason") == RESTOCKED_RETURN_REASON:
        return -unit_cost[event["sku"]] * int(event["quantity"])
    return Decimal("0")


def cogs_journal_truth(world: World, wms) -> list[dict]:
    """Every COGS journal the pipeline must post, sorted by (business_date, location_id)."""
    unit_cost = {item.sku: item.unit_cost for item in world.catalog}
    net: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for event in wms.events_in_window(world):
        effect = _cost_effect(event, unit_cost)
        if not effect:
            continue
        location = world.location(event["location"])
        occurred = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
        day = occurred.astimezone(ZoneInfo(location.time_zone)).date()
        net[(day, location.code)] += effect
    currencies = {entity.legal_entity_id: entity.functional_currency for entity in world.legal_entities}
    journals = []
    for (day, code), amount in sorted(net.items()):
        debit = cents(amount)
        if debit == 0:
            continue
        location = world.location(code)
        journals.append({"legal_entity_id": location.legal_entity_id, "location_id": code,
                         "business_date": day.isoformat(), "currency": currencies[location.legal_entity_id],
                         "accounts": {COGS_ACCOUNT: money(debit), INVENTORY_ACCOUNT: money(-debit)}})
    return journals
