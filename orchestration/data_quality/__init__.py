"""Data quality in front of staging: a Great Expectations suite for every raw table of every source.

- suites/: the expectations, one module per source (plain data: GE's expectation configurations);
- validation.py: reads a raw table's rows (a load's gate: only those loaded since its check last
  passed) through the warehouse connection (DuckDB or PostgreSQL) into pandas and validates them with
  Great Expectations' pandas datasource; says which rows broke which rule; freshness is asked in SQL;
- status.py: failing_sources(instance), the raw schemas whose latest check failed, for the dbt build
  to leave out (dbt_exclude_args); validated_through, where the last passing check of a table stopped;
- docs.py: `python -m orchestration.data_quality.docs`, dbt docs and GE Data Docs (make docs).

The Dagster checks are in orchestration/defs/data_quality/.
"""
from orchestration.data_quality.status import CHECK_NAME, dbt_exclude_args, failing_sources, failing_tables

__all__ = ["CHECK_NAME", "dbt_exclude_args", "failing_sources", "failing_tables"]
