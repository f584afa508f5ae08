"""Small builders for Great Expectations expectation configurations, as plain JSON-able dicts.

A suite is a list of `{"type": ..., "kwargs": {...}, "meta": {...}}` dicts, the format Great
Expectations 1.x stores suites in (ExpectationConfiguration), so a suite can be read, diffed and
reviewed as data, and written to JSON as it is. The builders only save typing.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

Expectation = dict

# Text cells that must parse as a number or a currency code.
# a decimal within sane bounds (|x| < 1e9) that fits numeric(18,4)
DECIMAL_TEXT = r"^-?\d{1,9}(?:\.\d{1,4})?$"
CURRENCY_CODE = r"^[A-Z]{3}$"

# A raw column's SQL type (connectors/*/raw_tables.py) -> the Python types its values have once read
# through the warehouse connection (DuckDB and psycopg2 return the same native types).
_PYTHON_TYPES: list[tuple[str, list[str]]] = [
    (r"^(varchar|text|character varying)", ["str"]),
    (r"^(integer|bigint|smallint|int)\b", ["int"]),
    (r"^(numeric|decimal)", ["Decimal"]),
    (r"^(timestamptz|timestamp with time zone)", ["datetime", "Timestamp"]),
    (r"^date$", ["date"]),
    (r"^boolean", ["bool"]),
]


def python_types(sql_type: str) -> list[str]:
    for pattern, names in _PYTHON_TYPES:
        if re.match(pattern, sql_type.strip().lower()):
            return names
    raise ValueError(f"no Python type known for SQL type {sql_type!r}")


def _expectation(kind: str, meta: str | None = None, **kwargs) -> Expectation:
    expectation: Expectation = {"type": kind, "kwargs": kwargs}
    if meta:
        expectation["meta"] = {"notes": meta}
    return expectation


def columns_present(columns: Iterable[str]) -> Expectation:
    """The table has at least these columns (extra columns a vendor adds are tolerated)."""
    return _expectation("expect_table_columns_to_match_set", "required columns (schema drift)",
                        column_set=sorted(columns), exact_match=False)


def typed(columns: dict[str, str]) -> list[Expectation]:
    """Every value of every column has the type its raw-table contract declares."""
    return [_expectation("expect_column_values_to_be_in_type_list", f"declared {sql_type}", column=column,
                         type_list=python_types(sql_type)) for column, sql_type in columns.items()]


def not_null(*columns: str) -> list[Expectation]:
    return [_expectation("expect_column_values_to_not_be_null", "required field", column=c) for c in columns]


def in_set(column: str, values: Iterable[str], meta: str | None = None, **kwargs) -> Expectation:
    return _expectation("expect_column_values_to_be_in_set", meta or "accepted values", column=column,
                        value_set=sorted(set(values)), **kwargs)


def between(column: str, min_value=None, max_value=None, meta: str | None = None, **kwargs) -> Expectation:
    bounds = {k: v for k, v in (("min_value", min_value), ("max_value", max_value)) if v is not None}
    return _expectation("expect_column_values_to_be_between", meta or "value range", column=column, **bounds,
                        **kwargs)


def non_negative(*columns: str) -> list[Expectation]:
    return [between(c, min_value=0, meta="never negative") for c in columns]


def bounded(*columns: str, limit) -> list[Expectation]:
    """Amounts within sane bounds: |amount| <= limit (in the column's unit)."""
    return [between(c, min_value=-limit, max_value=limit, meta=f"sane amount: |value| <= {limit}") for c in columns]


def matches(column: str, regex: str, meta: str | None = None) -> Expectation:
    return _expectation("expect_column_values_to_match_regex", meta or f"parsable: {regex}", column=column,
                        regex=regex)


def decimal_text(*columns: str) -> list[Expectation]:
    """Money the vendor sends as text (Shopify): every value parses as a decimal number."""
    return [matches(c, DECIMAL_TEXT, "parsable decimal text, |x| < 1e9, <= 4 decimals") for c in columns]


def currency_codes(*columns: str) -> list[Expectation]:
    return [matches(c, CURRENCY_CODE, "ISO 4217 currency code") for c in columns]


def where(condition: str, expectation: Expectation) -> Expectation:
    """The expectation on the rows a pandas query selects, e.g. where('type == "ship"', between(...))."""
    return {**expectation, "kwargs": {**expectation["kwargs"], "row_condition": condition,
                                      "condition_parser": "pandas"}}


def fresh(column: str, oldest) -> Expectation:
    """The newest value of `column` is at or after `oldest` (a timezone-aware datetime)."""
    return _expectation("expect_column_max_to_be_between", "freshness of the newest record", column=column,
                        min_value=oldest)
