"""The expectation suites of every raw schema, one module per source, one suite per raw table.

Every suite starts with what the raw-table contract (connectors/<channel>/raw_tables.py) already
says: the table has its columns (extra ones are tolerated) and every value has its declared type.
Each source module adds what the vendor's documentation says: required fields, accepted values of
its enums, value ranges, and parsable text. Freshness is per source: the newest record of every
non-empty table (its `_extracted_at` by default) is no older than `max_age`, 30 days unless the
source says otherwise; OMNIRECON_DQ_MAX_AGE_DAYS overrides it for every source and
OMNIRECON_DQ_MAX_AGE_DAYS_<SCHEMA> (e.g. OMNIRECON_DQ_MAX_AGE_DAYS_RAW_SHOPIFY) for one.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import ModuleType

from connectors.raw_load import METADATA_COLUMNS
from orchestration.data_quality.expectations import Expectation, columns_present, fresh, typed


@dataclass(frozen=True)
class Freshness:
    column: str = "_extracted_at"  # or a business timestamp of the table, e.g. "created_at"
    max_age: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class SourceSuite:
    raw: ModuleType  # SCHEMA, RAW_TABLES and RECORD_KEYS (connectors/<channel>/raw_tables.py)
    tables: dict[str, list[Expectation]]  # table -> the source's own expectations
    freshness: Freshness = field(default_factory=Freshness)
    # table -> freshness column, where a table's newest record is better told by another column
    freshness_columns: dict[str, str] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        return self.raw.SCHEMA

    def table_names(self) -> list[str]:
        return list(self.raw.RAW_TABLES)

    def record_key(self, table: str) -> str:
        """The SQL expression naming one business record of the table (its failing rows are shown by it)."""
        return self.raw.RECORD_KEYS.get(table, "_record_hash")

    def max_age(self) -> timedelta:
        env = os.environ
        days = env.get(f"OMNIRECON_DQ_MAX_AGE_DAYS_{self.schema.upper()}") or env.get("OMNIRECON_DQ_MAX_AGE_DAYS")
        return timedelta(days=float(days)) if days else self.freshness.max_age

    def expectations(self, table: str, *, now: datetime | None = None, empty: bool = False) -> list[Expectation]:
        """The table's whole suite: contract columns and types, the source's rules, and freshness
        (not for an empty table: a source may have nothing of a kind yet, e.g. no disputes)."""
        columns = {**self.raw.RAW_TABLES[table], **METADATA_COLUMNS}
        suite = [columns_present(columns), *typed(columns), *self.tables.get(table, [])]
        if not empty:
            now = now or datetime.now(timezone.utc)
            suite.append(fresh(self.freshness_columns.get(table, self.freshness.column), now - self.max_age()))
        return suite

    def to_json(self, table: str) -> str:
        """The table's suite as Great Expectations stores it (freshness as of now)."""
        return json.dumps({"name": suite_name(self.schema, table), "expectations": self.expectations(table)},
                          indent=2, default=str)


def suite_name(schema: str, table: str) -> str:
    return f"{schema}.{table}"


def _registry() -> dict[str, SourceSuite]:
    from orchestration.data_quality.suites import (adyen, amazon, bank, erp, marketplace, shopify, square, stripe,
                                                   webhooks, wms)

    suites = [module.SUITE for module in (shopify, stripe, amazon, square, adyen, marketplace, wms, erp, bank,
                                          webhooks)]
    return {suite.schema: suite for suite in suites}


SUITES: dict[str, SourceSuite] = _registry()
