"""How regional marketplaces' settlement files become rows of raw_marketplace.settlement_lines.

Every marketplace lands in the one table, told apart by its `marketplace` column, because their
files all parse to the same canonical row (connectors/marketplace/settlement_file.py). The raw
loader registers one module per landing source, and a marketplace's source (and inbox folder) is
`marketplace_<name>`, so `source_module(name)` builds that module bound to the marketplace's
mapping:

    raw_load.RAW_SOURCES["marketplace_bazaarly"] = source_module("bazaarly")

A settlement line has no id of its own in these files; within a settlement the line's position
identifies it (a re-sent file of the same settlement repeats the same lines at the same lines).
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from connectors.marketplace.settlement_file import load_mapping, marketplace_names, parse_settlement_file
from connectors.report_files import ParsedReport

__all__ = ["SCHEMA", "RAW_TABLES", "FILE_TABLE", "RECORD_KEYS", "source_name", "source_module",
           "marketplace_names"]

SCHEMA = "raw_marketplace"
FILE_TABLE = "settlement_lines"

RAW_TABLES: dict[str, dict[str, str]] = {
    "settlement_lines": {
        "marketplace": "varchar", "settlement_id": "varchar", "line_number": "integer", "order_id": "varchar",
        "sku": "varchar", "line_type": "varchar", "their_line_type": "varchar", "quantity": "integer",
        "amount": "numeric(18,4)", "fee": "numeric(18,4)", "currency": "varchar", "posted_date": "date",
        "posted_at": "timestamptz", "description": "varchar",
    },
}

RECORD_KEYS: dict[str, str] = {
    "settlement_lines": "marketplace || ':' || settlement_id || ':' || cast(line_number as varchar)",
}


def source_name(marketplace: str) -> str:
    """The landing source and inbox folder of a marketplace's files."""
    return f"marketplace_{marketplace}"


def source_module(marketplace: str | Path) -> SimpleNamespace:
    """A raw-table module (the connectors/raw_load.py protocol) for one marketplace's files.

    `marketplace` is a shipped mapping's name or a mapping file's path; the mapping is loaded and
    validated now, so a broken mapping fails when the source is registered, not at the first file.
    """
    mapping = load_mapping(marketplace)

    def parse_file(path: str | Path) -> ParsedReport:
        return parse_settlement_file(path, mapping)

    return SimpleNamespace(SCHEMA=SCHEMA, RAW_TABLES=RAW_TABLES, FILE_TABLE=FILE_TABLE, RECORD_KEYS=RECORD_KEYS,
                           parse_file=parse_file, mapping=mapping, source=source_name(mapping.marketplace),
                           __name__=f"connectors.marketplace.raw_tables[{mapping.marketplace}]")


def source_modules() -> dict[str, SimpleNamespace]:
    """Every shipped marketplace's raw-table module, by landing source (for RAW_SOURCES.update)."""
    return {source_name(name): source_module(name) for name in marketplace_names()}
