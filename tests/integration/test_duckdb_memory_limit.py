"""DuckDB's memory limit reaches every connection to the warehouse: dbt's, through profiles.yml, and the loaders'.

Without it DuckDB may take 80% of the machine's memory; a peak day's matching held 5 GB (docs/benchmark.md).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from connectors.warehouse import connect
from orchestration.local_paths import DBT_PROJECT_DIR


def _as_duckdb_reports(limit: str) -> str:
    with duckdb.connect() as probe:
        probe.execute(f"set memory_limit = '{limit}'")
        return probe.execute("select current_setting('memory_limit')").fetchone()[0]


@pytest.mark.parametrize("configured, expected", [(None, "3GB"), ("1GB", "1GB"), ("25%", "25%")])
def test_the_loaders_connection_takes_the_limit(tmp_path, monkeypatch, configured, expected):
    if configured is None:
        monkeypatch.delenv("OMNIRECON_DUCKDB_MEMORY_LIMIT", raising=False)
    else:
        monkeypatch.setenv("OMNIRECON_DUCKDB_MEMORY_LIMIT", configured)
    with connect(str(tmp_path / "warehouse.duckdb")) as warehouse:
        limit, = warehouse.fetchall("select current_setting('memory_limit')")[0]
    assert limit == _as_duckdb_reports(expected)


def test_dbt_connects_with_the_limit(tmp_path):
    dbt = Path(sys.executable).with_name("dbt")
    shown = subprocess.run(
        [str(dbt) if dbt.exists() else "dbt", "show", "--output", "json",
         "--inline", "select current_setting('memory_limit') as memory_limit", "--quiet",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target", "duckdb", "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        env={**os.environ, "OMNIRECON_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
             "OMNIRECON_DUCKDB_MEMORY_LIMIT": "1GB"},
        cwd=tmp_path, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stdout[-2000:] + shown.stderr[-2000:]
    assert json.loads(shown.stdout)["show"] == [{"memory_limit": _as_duckdb_reports("1GB")}]
