"""Run a raw table's expectation suite with Great Expectations and say which rows broke which rule.

How a table is read: through the warehouse connection omnirecon already has (connectors/warehouse.py,
DuckDB or PostgreSQL), `select` of every column the table has, plus its record key (the table's
RECORD_KEYS expression) as `_record_key`, into a pandas DataFrame of the values exactly as the driver
returns them (int, Decimal, datetime, date, bool, str: the same on both engines), then validated with
Great Expectations' pandas datasource. That keeps one code path for every warehouse, no SQLAlchemy
URL or credentials of its own, and money stays Decimal (never float). The cost is that a table is
read whole; raw tables are one business's daily extracts, which pandas holds easily.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics leave the machine

import great_expectations as gx  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: E402

from orchestration.data_quality.suites import SUITES, SourceSuite, suite_name  # noqa: E402

RECORD_KEY = "_record_key"
MAX_ROWS = 20  # failing rows reported per expectation
DOCS_SITE = "omnirecon"

logging.getLogger("great_expectations").setLevel(logging.WARNING)


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
    row_count: int
    evaluated: int
    failures: list[Failure] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def name(self) -> str:
        return suite_name(self.schema, self.table)

    def markdown(self, max_rows: int = MAX_ROWS) -> str:
        """Which expectation failed on which rows: one line per failure, then up to `max_rows` rows each."""
        if self.success:
            return f"All {self.evaluated} expectations of {self.name} hold on its {self.row_count} rows."
        lines = [f"{len(self.failures)} of {self.evaluated} expectations of {self.name} failed "
                 f"({self.row_count} rows).", "",
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


def read_table(warehouse, schema: str, table: str, record_key: str) -> pd.DataFrame:
    """The raw table's rows as the driver returns them, and each row's record key as `_record_key`."""
    columns = _columns(warehouse, schema, table)
    if not columns:
        raise LookupError(f"{schema}.{table} does not exist in the warehouse")
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = warehouse.fetchall(f'select {quoted}, cast({record_key} as varchar) as "{RECORD_KEY}" '
                              f'from {schema}."{table}"')
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


def validate_table(warehouse, suite: SourceSuite, table: str, *, context=None, now: datetime | None = None,
                   docs: bool = False) -> TableValidation:
    """Validate one raw table against its suite. `docs` also renders the result into the context's Data Docs."""
    schema = suite.schema
    if not table_exists(warehouse, schema, table):
        return TableValidation(schema, table, 0, 1, [Failure("table_exists", None, f"{schema}.{table}",
                                                             error="the raw table does not exist (never loaded)")])
    frame = read_table(warehouse, schema, table, suite.record_key(table))
    context = context or new_context()
    name = suite_name(schema, table)
    expectations = suite.expectations(table, now=now or datetime.now(timezone.utc), empty=frame.empty)
    gx_suite = context.suites.add(gx.ExpectationSuite(
        name=name, expectations=[ExpectationConfiguration(**e).to_domain_obj() for e in expectations]))
    batch = context.data_sources.get("warehouse").add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
    validation = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=gx_suite))
    actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])] if docs else []
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=name, validation_definitions=[validation], actions=actions,
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": MAX_ROWS,
                       "unexpected_index_column_names": [RECORD_KEY]}))
    result = next(iter(checkpoint.run(batch_parameters={"dataframe": frame}).run_results.values()))
    return TableValidation(schema, table, len(frame), len(result.results),
                           [_failure(r) for r in result.results if not r.success])


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
                    context=None, docs: bool = False) -> dict[str, TableValidation]:
    """Validate the raw tables of one schema (all of them unless `tables` says which), by table."""
    suite = SUITES[schema]
    context = context or new_context()
    return {table: validate_table(warehouse, suite, table, context=context, now=now, docs=docs)
            for table in (suite.table_names() if tables is None else tables)}
