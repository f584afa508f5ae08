"""The inventory marts beside the sandbox's truth: stock states, ATS per channel and location, ATS per
channel, and oversells, cell by cell. `omnirecon demo` prints the comparison; the dbt tests assert it."""
from __future__ import annotations

from datetime import date

# truth part -> (mart, key columns, compared columns)
COMPARISONS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "states": ("inventory_states", ("business_date", "location_id", "sku"),
               ("state_source", "on_hand", "committed", "reserved", "damaged", "quality_control", "safety_stock",
                "available")),
    "ats": ("available_to_sell", ("business_date", "channel_id", "location_id", "sku"), ("available_to_sell",)),
    "ats_by_channel": ("available_to_sell_by_channel", ("business_date", "channel_id", "sku"), ("available_to_sell",)),
    "oversells": ("oversold_order_lines", ("channel_id", "order_id", "sku"), ("quantity",)),
}


def _text(value):
    return value.isoformat() if isinstance(value, date) else value


def held(warehouse, part: str) -> dict[tuple, tuple]:
    mart, key, values = COMPARISONS[part]
    rows = warehouse.fetchall(f"select {', '.join(key + values)} from marts.{mart}")
    return {tuple(_text(v) for v in row[:len(key)]): tuple(row[len(key):]) for row in rows}


def expected(truth_inventory: dict, part: str) -> dict[tuple, tuple]:
    _, key, values = COMPARISONS[part]
    return {tuple(row[k] for k in key): tuple(row[v] for v in values) for row in truth_inventory[part]}


def differences_in_inventory(warehouse, truth_inventory: dict, limit: int = 20) -> list[str]:
    """Every cell that differs from the sandbox's, the first `limit` of each part."""
    differences = []
    for part, (mart, key, values) in COMPARISONS.items():
        have, want = held(warehouse, part), expected(truth_inventory, part)
        wrong = [k for k in sorted(set(have) | set(want), key=repr) if have.get(k) != want.get(k)]
        differences += [f"{mart} {'|'.join(map(str, k))}: {have.get(k)} in the marts, {want.get(k)} in the sandbox"
                        for k in wrong[:limit]]
        if len(wrong) > limit:
            differences.append(f"{mart}: {len(wrong) - limit} more cells differ")
    return differences


def render_inventory(warehouse, truth_inventory: dict) -> str:
    """Per channel, over every day: positions compared and equal, sold-out positions, oversells found."""
    have, want = held(warehouse, "ats_by_channel"), expected(truth_inventory, "ats_by_channel")
    oversold, truth_oversold = held(warehouse, "oversells"), expected(truth_inventory, "oversells")
    lines = [f"  {'channel':<22} {'SKU-days':>9} {'equal':>7} {'sold out':>9} {'oversells found / injected':>27}"]
    for channel in sorted({k[1] for k in want}):
        cells = [k for k in want if k[1] == channel]
        equal = sum(1 for k in cells if have.get(k) == want[k])
        sold_out = sum(1 for k in cells if want[k] == (0,))
        found = sum(1 for k in truth_oversold if k[0] == channel and k in oversold)
        injected = sum(1 for k in truth_oversold if k[0] == channel)
        lines.append(f"  {channel:<22} {len(cells):>9} {equal:>7} {sold_out:>9} {f'{found} / {injected}':>27}")
    return "\n".join(lines)
