"""Run a raw table's expectation suite with Great Expectations and say which rows broke which rule.

How a table is read: through the warehouse connection omnirecon already has (connectors/warehouse.py,
DuckDB or PostgreSQL), `select` of every column the table has, plus its record key (the table's
RECORD_KEYS expression) as `_record_key`, into a pandas DataFrame of the values exactly as the driver
returns them (int, Decimal, datetime, date, bool, str: the same on both engines), then validated with
Great Expectations' pandas datasource. That keeps one code path for every warehouse, no SQLAlchemy
URL or credentials of its own, and money stays Decimal (never float).

What is read: the expectations about single rows (types, required fields, accepted values, ranges) hold
for the table when they hold for each load, so a load's gate reads only the rows loaded after
`loaded_after` (raw tables are append-only: every row carries the `_loaded_at` of its load). Without it,
the whole table is read (a full re-check, the Data Docs). The expectations about the whole table (the
freshness of its newest record) are answered by the warehouse in SQL, never by pulling history into pandas.

What it costs: Great Expectations spends milliseconds per expectation building its metric graph, whatever
the rows, so a gate asks it as little as it can. A batch is validated against its suite directly (one
context and dataframe asset per process; the checkpoint, which stores results, only for the Data Docs),
first only for whether each expectation holds, then the ones that failed again for their failing rows.
With no rows to validate, the rules about each row hold vacuously and Great Expectations is not asked.
"""
from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics leave the machine

import great_expectations as gx  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.execution_engine import pandas_execution_engine  # noqa: E402
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: E402

from orchestration.data_quality.suites import SUITES, SourceSuite, suite_name  # noqa: E402

RECORD_KEY = "_record_key"
LOADED_AT = "_loaded_at"  # when a row's load committed its batch (connectors/raw_load.py)
# Expectations about an aggregate of the whole table: asked of the warehouse in SQL, whatever rows are validated.
WHOLE_TABLE = {"expect_column_max_to_be_between"}
MAX_ROWS = 20  # failing rows reported per expectation
DOCS_SITE = "omnirecon"

logging.getLogger("great_expectations").setLevel(logging.WARNING)
# Great Expectations fingerprints every pandas batch under this many bytes (an md5 over a hash of every
# cell, taken twice per validation) only to label it in the result: half of a gate's time, and the gate's
# frames are never looked up by fingerprint. 0: no frame is fingerprinted.
pandas_execution_engine.HASH_THRESHOLD = 0


@dataclass
class Failure:
    """One expectation that did not hold, and the rows (by record key) that broke it."""
    expectation: str
    column: str | None
    rule: str  # the expectation's arguments, e.g. "value_set=['paid', ...]"
    unexpected_count: int | None = None
    element_count: int | None = None
    rows: list[tuple[str, object]] = field(default_factory=list)  # (record key, unexpected value), at most MAX_ROWS
    observed: object = None
    error: str | None = None


@dataclass
class TableValidation:
    schema: str
    table: str
    row_count: int  # rows validated: the whole table, or the rows loaded after `loaded_after`
    evaluated: int
    failures: list[Failure] = field(default_factory=list)
    loaded_after: datetime | None = None  # None: the whole table was validated
    loaded_through: datetime | None = None  # the newest _loaded_at among the rows validated (or loaded_after)

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def name(self) -> str:
        return suite_name(self.schema, self.table)

    @property
    def scope(self) -> str:
        if self.loaded_after is None:
            return f"its {self.row_count} rows"
        return f"the {self.row_count} rows loaded after {self.loaded_after.isoformat()} (and its newest record)"

    def markdown(self, max_rows: int = MAX_ROWS) -> str:
        """Which expectation failed on which rows: one line per failure, then up to `max_rows` rows each."""
        if self.success:
            return f"All {self.evaluated} expectations of {self.name} hold on {self.scope}."
        lines = [f"{len(self.failures)} of {self.evaluated} expectations of {self.name} failed "
                 f"({self.scope}).", "",
                 "| expectation | column | rule | unexpected | observed |", "|---|---|---|---|---|"]
        for f in self.failures:
            count = "" if f.unexpected_count is None else f"{f.unexpected_count} of {f.element_count}"
            observed = f.error or ("" if f.observed is None else f.observed)
            lines.append(f"| {f.expectation} | {f.column or ''} | {_cell(f.rule)} | {count} | {_cell(observed)} |")
        for f in self.failures:
            if not f.rows:
                continue
            lines += ["", f"**{f.expectation}** on `{f.column}`: failing rows (first {min(len(f.rows), max_rows)})", "",
                      "| record key | unexpected value |", "|---|---|"]
            lines += [f"| {_cell(key)} | {_cell(value)} |" for key, value in f.rows[:max_rows]]
        return "\n".join(lines)


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")[:200]


def _rule(kwargs: dict) -> str:
    shown = {k: v for k, v in kwargs.items() if k not in ("column", "batch_id", "condition_parser", "result_format")}
    if isinstance(shown.get("row_condition"), dict):  # GE stores a pandas condition as a pass-through filter
        shown["row_condition"] = shown["row_condition"].get("pass_through_filter", shown["row_condition"])
    return ", ".join(f"{k}={v!r}" if not isinstance(v, list) or len(v) <= 8 else f"{k}=[{len(v)} values]"
                     for k, v in shown.items())


def table_exists(warehouse, schema: str, table: str) -> bool:
    return bool(_columns(warehouse, schema, table))


def _columns(warehouse, schema: str, table: str) -> list[str]:
    return [name for (name,) in warehouse.fetchall(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, table])]


def _schema_columns(warehouse, schema: str) -> dict[str, list[str]]:
    """Every table of the schema and its columns, in one query."""
    columns: dict[str, list[str]] = {}
    for table, name in warehouse.fetchall(
            "select table_name, column_name from information_schema.columns where table_schema = ? "
            "order by table_name, ordinal_position", [schema]):
        columns.setdefault(table, []).append(name)
    return columns


def read_table(warehouse, schema: str, table: str, record_key: str, loaded_after: datetime | None = None,
               columns: list[str] | None = None) -> pd.DataFrame:
    """The raw table's rows as the driver returns them, and each row's record key as `_record_key`;
    only the rows loaded after `loaded_after` when it is given."""
    columns = columns or _columns(warehouse, schema, table)
    if not columns:
        raise LookupError(f"{schema}.{table} does not exist in the warehouse")
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f'select {quoted}, cast({record_key} as varchar) as "{RECORD_KEY}" from {schema}."{table}"'
    rows = (warehouse.fetchall(sql) if loaded_after is None
            else warehouse.fetchall(f'{sql} where "{LOADED_AT}" > ?', [loaded_after]))
    return pd.DataFrame(rows, columns=[*columns, RECORD_KEY], dtype=object)


def new_context(docs_dir: str | None = None):
    """An ephemeral Great Expectations context (nothing written), or one that renders Data Docs into docs_dir."""
    context = gx.get_context(mode="ephemeral")
    # No progress bars: validations run inside Dagster steps and the demo, whose output is read by people.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    for site in list(context.get_site_names()):
        context.delete_data_docs_site(site)  # the default site would render into a temp folder
    if docs_dir:
        context.add_data_docs_site(site_name=DOCS_SITE, site_config={
            "class_name": "SiteBuilder", "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)}})
    context.data_sources.add_pandas("warehouse")
    return context


@functools.cache
def _gate_batches():
    """The batch definition every gate validation of this process reads its rows through (nothing stored)."""
    asset = new_context().data_sources.get("warehouse").add_dataframe_asset("raw_rows")
    return asset.add_batch_definition_whole_dataframe("raw_rows")


def validate_table(warehouse, suite: SourceSuite, table: str, *, context=None, now: datetime | None = None,
                   docs: bool = False, loaded_after: datetime | None = None,
                   columns: list[str] | None = None) -> TableValidation:
    """Validate one raw table against its suite: its rows loaded after `loaded_after` (all of them when None)
    and its newest record. `docs` validates the whole table in Great Expectations and renders the result into
    the Data Docs of `context`. `columns`: the table's columns when the caller has read them already."""
    schema = suite.schema
    columns = _columns(warehouse, schema, table) if columns is None else columns
    if not columns:
        return TableValidation(schema, table, 0, 1, [Failure("table_exists", None, f"{schema}.{table}",
                                                             error="the raw table does not exist (never loaded)")])
    if docs or LOADED_AT not in columns:
        loaded_after = None
    frame = read_table(warehouse, schema, table, suite.record_key(table), loaded_after, columns)
    empty = frame.empty and (
        loaded_after is None or not warehouse.fetchall(f'select 1 from {schema}."{table}" limit 1'))
    expectations = suite.expectations(table, now=now or datetime.now(timezone.utc), empty=empty)
    in_sql = [] if docs else [e for e in expectations if e["type"] in WHOLE_TABLE]
    per_row = [e for e in expectations if e not in in_sql]
    name = suite_name(schema, table)
    if docs:
        failures = [_failure(r) for r in _run_checkpoint(context or new_context(), name, per_row, frame)
                    if not r.success]
    elif frame.empty and _hold_on_no_rows(per_row, columns):
        failures = []
    else:
        failures = _great_expectations_failures(name, per_row, frame)
    failures += [f for f in (_whole_table_failure(warehouse, schema, table, columns, e) for e in in_sql) if f]
    newest_loaded = frame[LOADED_AT].max() if LOADED_AT in frame and not frame.empty else None
    return TableValidation(schema, table, len(frame), len(per_row) + len(in_sql), failures, loaded_after,
                           newest_loaded or loaded_after)


SUMMARY = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_ROWS,
           "unexpected_index_column_names": [RECORD_KEY]}


def _suite(name: str, expectations: list) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(name=name, expectations=[
        e.to_domain_obj() if isinstance(e, ExpectationConfiguration) else ExpectationConfiguration(**e).to_domain_obj()
        for e in expectations])


def _run_checkpoint(context, name: str, expectations: list[dict], frame: pd.DataFrame) -> list:
    """The suite run through a checkpoint that renders its result into the context's Data Docs."""
    gx_suite = context.suites.add(_suite(name, expectations))
    batch = context.data_sources.get("warehouse").add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
    validation = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=gx_suite))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=name, validation_definitions=[validation], result_format=SUMMARY,
        actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])]))
    return next(iter(checkpoint.run(batch_parameters={"dataframe": frame}).run_results.values())).results


def _great_expectations_failures(name: str, expectations: list[dict], frame: pd.DataFrame) -> list[Failure]:
    """The expectations that fail on the frame, with their failing rows. Whether each holds is the cheap
    question (BOOLEAN_ONLY: no unexpected rows gathered); only the ones that failed are asked for their rows
    and counts, in the order Great Expectations reported them the first time."""
    held = _gate_batches().get_batch(batch_parameters={"dataframe": frame}).validate(
        _suite(name, expectations), result_format="BOOLEAN_ONLY").results
    failed = [r.expectation_config for r in held if not r.success]
    if not failed:
        return []
    order = {_config_key(config): position for position, config in enumerate(failed)}
    again = _gate_batches().get_batch(batch_parameters={"dataframe": frame}).validate(
        _suite(name, failed), result_format=SUMMARY).results
    again = sorted(again, key=lambda r: order.get(_config_key(r.expectation_config), len(order)))
    return [_failure(r) for r in again if not r.success]


def _config_key(config: ExpectationConfiguration) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return json.dumps([config.type, kwargs], sort_keys=True, default=str)


def _hold_on_no_rows(expectations: list[dict], columns: list[str]) -> bool:
    """Whether Great Expectations would find every expectation holding on no rows of a table with these
    columns, without asking it: a rule about each row's values holds on none when its column, and the
    columns its row condition reads, exist; the required columns are there or not whatever the rows.
    Any other expectation is left to Great Expectations."""
    no_rows = pd.DataFrame(columns=columns, dtype=object)
    for expectation in expectations:
        kind, kwargs = expectation["type"], expectation["kwargs"]
        if kind == "expect_table_columns_to_match_set" and kwargs.get("exact_match") is False:
            if not set(kwargs["column_set"]) <= set(columns):
                return False
        elif kind.startswith("expect_column_values_to_") and kwargs.get("column") in columns:
            if kwargs.get("row_condition"):
                try:
                    no_rows.query(kwargs["row_condition"])  # how GE applies a pandas row condition
                except Exception:  # noqa: BLE001 - whatever it is, GE reports it
                    return False
        else:
            return False
    return True


def _whole_table_failure(warehouse, schema: str, table: str, columns: list[str], expectation: dict) -> Failure | None:
    """expect_column_max_to_be_between as Great Expectations means it (bounds inclusive, a column without
    any value fails), asked of the warehouse: max() over the whole table, not over the rows just loaded."""
    kwargs = expectation["kwargs"]
    column = kwargs["column"]
    failure = Failure(expectation["type"], column, _rule(kwargs))
    if column not in columns:
        failure.error = f"could not evaluate: the table has no column {column!r}"
        return failure
    (failure.observed,), = warehouse.fetchall(f'select max("{column}") from {schema}."{table}"')
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    try:
        holds = failure.observed is not None and (low is None or failure.observed >= low) and (
            high is None or failure.observed <= high)
    except TypeError as error:  # e.g. a timestamp column that drifted to text
        failure.error = f"could not evaluate: {error}"
        return failure
    return None if holds else failure


def _failure(result) -> Failure:
    config, details = result.expectation_config, result.result or {}
    failure = Failure(config.type, config.kwargs.get("column"), _rule(config.kwargs),
                      details.get("unexpected_count"), details.get("element_count"),
                      observed=details.get("observed_value"))
    failure.error = _exception_message(result.exception_info or {})
    column = failure.column
    for row in details.get("partial_unexpected_index_list") or []:
        if isinstance(row, dict):
            failure.rows.append((row.get(RECORD_KEY), row.get(column)))
    if not failure.rows and details.get("partial_unexpected_list"):
        failure.rows = [("?", value) for value in details["partial_unexpected_list"]]
    return failure


def _exception_message(info: dict) -> str | None:
    """The message of an exception GE caught (flat, or keyed by the metric that raised it)."""
    if info.get("raised_exception"):
        return f"could not evaluate: {info.get('exception_message')}"
    nested = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    return f"could not evaluate: {nested[0].get('exception_message')}" if nested else None


def validate_source(warehouse, schema: str, tables: list[str] | None = None, *, now: datetime | None = None,
                    context=None, docs: bool = False,
                    loaded_after: dict[str, datetime | None] | None = None) -> dict[str, TableValidation]:
    """Validate the raw tables of one schema (all of them unless `tables` says which), by table; a table
    named in `loaded_after` only on its rows loaded after that time (and its newest record)."""
    suite = SUITES[schema]
    context = context or (new_context() if docs else None)  # the gate needs none of its own
    loaded_after = loaded_after or {}
    columns = _schema_columns(warehouse, schema)
    return {table: validate_table(warehouse, suite, table, context=context, now=now, docs=docs,
                                  loaded_after=loaded_after.get(table), columns=columns.get(table, []))
            for table in (suite.table_names() if tables is None else tables)}
