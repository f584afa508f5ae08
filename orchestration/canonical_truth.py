"""The canonical marts per channel (or provider) and business date, beside what the sandbox knows.

Each canonical mart is compared on one figure per group and day: orders on order_total, order lines
on net_amount, payment events on gross_amount, returned lines on refund_amount, inventory movements
and end-of-day positions on units per location; and every return on the order line it links to. `omnirecon demo` prints the comparison; the dbt tests assert it.
"""
from __future__ import annotations

from decimal import Decimal

# mart -> (group column, money column)
CANONICAL_FIGURES: dict[str, tuple[str, str]] = {
    "orders": ("channel_id", "order_total"),
    "order_lines": ("channel_id", "net_amount"),
    "payments": ("provider", "gross_amount"),
    "returns": ("channel_id", "refund_amount"),
    "inventory_movements": ("location_id", "quantity"),  # units, not money
    "inventory_positions": ("location_id", "on_hand"),
}
RETURN_LINK_COLUMNS = "channel_id, return_line_id, original_channel_id, original_order_id, original_order_line_id"


def canonical_figures(warehouse) -> dict[str, dict[str, dict]]:
    """{mart: {"<group>|<business date>": {"count": n, "amount": Decimal}}} as the warehouse holds them."""
    figures: dict[str, dict[str, dict]] = {}
    for mart, (group, amount) in CANONICAL_FIGURES.items():
        rows = warehouse.fetchall(f"select {group}, cast(business_date as varchar), count(*), sum({amount}) "
                                  f"from marts.{mart} group by 1, 2")
        figures[mart] = {f"{g}|{day}": {"count": n, "amount": Decimal(total)} for g, day, n, total in rows}
    return figures


def return_links(warehouse) -> set[tuple[str, ...]]:
    return {tuple(row) for row in warehouse.fetchall(f"select {RETURN_LINK_COLUMNS} from marts.returns")}


def truth_return_links(world) -> set[tuple[str, ...]]:
    return {(x.channel, x.return_line_id, x.original_channel, x.original_order_id, x.original_order_line_id)
            for x in world.return_links}


def differences_in_canonical(figures: dict, truth: dict) -> list[str]:
    """Every mart, group and day whose count or amount differs from the sandbox's (exact decimals)."""
    differences = []
    for mart in CANONICAL_FIGURES:
        held, expected = figures.get(mart, {}), truth.get(mart, {})
        for key in sorted(set(held) | set(expected)):
            h = held.get(key, {"count": 0, "amount": Decimal(0)})
            e = expected.get(key, {"count": 0, "amount": Decimal(0)})
            if h["count"] != e["count"] or Decimal(h["amount"]) != Decimal(e["amount"]):
                differences.append(f"{mart} {key}: {h['count']} rows, {h['amount']} in the marts; "
                                   f"{e['count']}, {e['amount']} in the sandbox")
    return differences


def render_canonical(figures: dict) -> str:
    """Totals per mart and group over all days."""
    lines = [f"  {'mart':<20} {'channel / provider':<24} {'rows':>6} {'amount':>14}"]
    for mart, (_, amount) in CANONICAL_FIGURES.items():
        totals: dict[str, list] = {}
        for key, cell in figures.get(mart, {}).items():
            group = key.split("|")[0]
            total = totals.setdefault(group, [0, Decimal(0)])
            total[0] += cell["count"]
            total[1] += Decimal(cell["amount"])
        for group, (count, money) in sorted(totals.items()):
            lines.append(f"  {mart:<20} {group:<24} {count:>6} {money:>14.2f}")
    return "\n".join(lines)
