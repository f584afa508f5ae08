"""The dbt project as Dagster sees it: where it is, and its manifest (re-parsed when out of date)."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration import local_paths

DBT_TARGET = os.environ.get("OMNIRECON_TARGET", "duckdb")
# The dbt installed beside this Python (the project's venv), whether or not the venv is on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
# The dbt profile reads the DuckDB path from the environment; subprocesses inherit it.
os.environ.setdefault("OMNIRECON_DUCKDB_PATH", str(local_paths.duckdb_path()))

omnirecon_dbt = DbtProject(project_dir=local_paths.DBT_PROJECT_DIR, profiles_dir=local_paths.DBT_PROJECT_DIR,
                           target=DBT_TARGET)


def parse_manifest() -> Path:
    """Write target/manifest.json with `dbt parse` (a few seconds; needs no warehouse)."""
    subprocess.run([DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(omnirecon_dbt.project_dir),
                    "--profiles-dir", str(omnirecon_dbt.profiles_dir), "--target", DBT_TARGET],
                   check=True, cwd=omnirecon_dbt.project_dir)
    return omnirecon_dbt.manifest_path


def manifest_is_stale() -> bool:
    """No manifest yet, or a project file changed after it was written."""
    manifest = omnirecon_dbt.manifest_path
    if not manifest.exists():
        return True
    written = manifest.stat().st_mtime
    sources = [omnirecon_dbt.project_dir / name for name in ("dbt_project.yml", "models", "macros", "seeds", "tests")]
    return any(path.stat().st_mtime > written for source in sources
               for path in ([source] if source.is_file() else source.rglob("*")))


def ensure_manifest() -> None:
    """Dagster loads the models from the manifest: make it describe the project as it is now.

    Processes that load the definitions at once (test workers, a webserver beside a daemon) take turns,
    so that none reads a manifest another is halfway through writing."""
    target = omnirecon_dbt.manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest_is_stale():
            parse_manifest()


ensure_manifest()
