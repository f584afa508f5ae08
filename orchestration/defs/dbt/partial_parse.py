"""dbt reads the project again from scratch (~15 s, a tenth of a small close) unless the partial_parse.msgpack
it starts from was written for the same connection, and a DuckDB warehouse's path is part of the connection.
dagster-dbt starts every build from dbt_project/target/partial_parse.msgpack, written by `dbt parse` for
whichever warehouse path the parsing process had; so each DuckDB warehouse keeps the parse of its own latest
build beside it, and its next build (the 15-minute ATS cycle, tomorrow's close) starts from that (~5 s).

dbt checks the file itself (project files, profile, dbt version, vars) and reads again whatever changed, so a
stale copy costs time, never correctness. A PostgreSQL warehouse's connection does not change between
`dbt parse` and the builds, so it keeps dagster-dbt's default.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration import local_paths
from orchestration.defs.dbt.project import DBT_TARGET

FILE_NAME = "partial_parse.msgpack"


def warehouse_parse_file() -> Path | None:
    """Where this warehouse keeps the parse of its latest build: beside the DuckDB file; None on PostgreSQL."""
    if DBT_TARGET != "duckdb":
        return None
    return local_paths.duckdb_path().with_suffix(".dbt_partial_parse.msgpack")


def start_from_warehouse_parse(build_target: Path) -> bool:
    """Put the warehouse's parse where the build in `build_target` will look first; False if it has none."""
    saved = warehouse_parse_file()
    if saved is None or not saved.exists():
        return False
    build_target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(saved, build_target / FILE_NAME)
    return True


def keep_warehouse_parse(build_target: Path) -> None:
    """Keep the parse a finished build wrote, for the warehouse's next build (replaced whole, never half-written)."""
    saved, written = warehouse_parse_file(), build_target / FILE_NAME
    if saved is None or not written.exists():
        return
    saved.parent.mkdir(parents=True, exist_ok=True)
    partial = saved.with_name(f".{saved.name}.{os.getpid()}")
    shutil.copyfile(written, partial)
    os.replace(partial, saved)
