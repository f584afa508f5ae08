"""Records per source and raw table, as the warehouse holds them, beside what the sandbox served.

A record is counted once however many versions of it were landed (an order updated on two days
is two raw rows, one record): each raw-table module names the key of its records in RECORD_KEYS.
Quarantined records count under `_quarantine`.
"""
from __future__ import annotations

from types import ModuleType

from connectors.raw_load import RAW_SOURCES


def raw_modules() -> dict[str, ModuleType]:
    """One raw-table module per raw schema, e.g. raw_amazon (fed by the API and by the inbox alike)."""
    return {module.SCHEMA: module for module in RAW_SOURCES.values()}


def truth_by_schema(sources: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The sandbox counts per source (shopify, adyen, marketplace_bazaarly, ...) regrouped per raw schema."""
    by_schema: dict[str, dict[str, int]] = {}
    for source, tables in sources.items():
        schema = RAW_SOURCES[source].SCHEMA if source in RAW_SOURCES else f"raw_{source}"
        for table, records in tables.items():
            by_schema.setdefault(schema, {})[table] = by_schema.get(schema, {}).get(table, 0) + records
    return by_schema


def raw_record_counts(warehouse, modules: dict[str, ModuleType]) -> dict[str, dict[str, int]]:
    """{schema: {table: records}} for every raw table of the given modules (absent tables count 0)."""
    present = {(schema, table) for schema, table in warehouse.fetchall(
        "select table_schema, table_name from information_schema.tables")}
    counts: dict[str, dict[str, int]] = {}
    for schema, module in modules.items():
        for table in [*module.RAW_TABLES, "_quarantine"]:
            key = module.RECORD_KEYS.get(table, "_record_hash") if table != "_quarantine" else "_record_hash"
            if (module.SCHEMA, table) not in present:
                records = 0
            else:
                records = warehouse.fetchall(f"select count(distinct {key}) from {module.SCHEMA}.{table}")[0][0]
            counts.setdefault(schema, {})[table] = records
    return counts


def differences_in_record_counts(counts: dict[str, dict[str, int]], truth: dict[str, dict[str, int]]) -> list[str]:
    """Every schema/table whose record count differs from the truth (tables the truth omits must be empty)."""
    differences = []
    for schema in sorted(set(counts) | set(truth)):
        for table in sorted(set(counts.get(schema, {})) | set(truth.get(schema, {}))):
            held, expected = counts.get(schema, {}).get(table, 0), truth.get(schema, {}).get(table, 0)
            if held != expected:
                differences.append(f"{schema}.{table}: {held} records in raw, {expected} in the sandbox")
    return differences


def render_record_counts(counts: dict[str, dict[str, int]], truth: dict[str, dict[str, int]]) -> str:
    lines = [f"  {'schema':<22} {'raw table':<28} {'records':>8} {'sandbox':>8}"]
    for schema in sorted(counts):
        for table, held in counts[schema].items():
            expected = truth.get(schema, {}).get(table, 0)
            if held or expected:
                mark = "" if held == expected else "  <- differs"
                lines.append(f"  {schema:<22} {table:<28} {held:>8} {expected:>8}{mark}")
    return "\n".join(lines)
