"""Where a local omnirecon keeps its files: landing zone, DuckDB warehouse, exports, Dagster home.

Everything lives under OMNIRECON_HOME (default: .omnirecon/ in the checkout), and each path can be
overridden by its own variable, so a deployment can point them at mounted volumes.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def home() -> Path:
    return Path(os.environ.get("OMNIRECON_HOME", REPO_ROOT / ".omnirecon")).resolve()


def landing_root() -> Path:
    return Path(os.environ.get("OMNIRECON_LANDING_ROOT", home() / "landing"))


def duckdb_path() -> Path:
    return Path(os.environ.get("OMNIRECON_DUCKDB_PATH", home() / "warehouse.duckdb"))


def export_root() -> Path:
    return Path(os.environ.get("OMNIRECON_EXPORT_ROOT", home() / "exports"))


def state_root() -> Path:
    return home() / "state"


def cursor_path(source: str) -> Path:
    """The resumable pull cursors of one API source."""
    return state_root() / f"{source}_cursors.json"


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME", home() / "dagster_home"))


def inbox_root() -> Path:
    """Where vendors' and users' files are dropped, one subfolder per source."""
    return Path(os.environ.get("OMNIRECON_INBOX", REPO_ROOT / "data" / "inbox"))
