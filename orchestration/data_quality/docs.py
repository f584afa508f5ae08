"""Build the documentation sites of the local warehouse: dbt docs and Great Expectations Data Docs.

    python -m orchestration.data_quality.docs            # both, into $OMNIRECON_HOME/docs/{dbt,great_expectations}
    python -m orchestration.data_quality.docs --skip-dbt

dbt docs are generated (`dbt docs generate`, its own --target-path, so the project's target/ is left
alone) from the warehouse `make demo` built; the Data Docs are the Great Expectations suites of
every raw table run against that warehouse now. The warehouse is OMNIRECON_TARGET's (duckdb: the
file at OMNIRECON_DUCKDB_PATH; postgres: the OMNIRECON_PG_* database).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from orchestration import local_paths

DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")


class WarehouseMissing(RuntimeError):
    pass


def _warehouse(target: str, duckdb_path: Path | None):
    from orchestration.resources import WarehouseResource

    if target == "duckdb":
        path = Path(duckdb_path or local_paths.duckdb_path())
        if not path.exists():
            raise WarehouseMissing(f"no warehouse at {path}: run `make demo` first (it builds the local warehouse)")
        return WarehouseResource(target="duckdb", duckdb_path=str(path)).connect()
    return WarehouseResource(target=target).connect()


def build_great_expectations_docs(out_dir: Path, *, target: str = "duckdb", duckdb_path: Path | None = None) -> Path:
    """Run every raw table's suite against the warehouse and render the Data Docs; returns index.html."""
    from orchestration.data_quality.suites import SUITES
    from orchestration.data_quality.validation import DOCS_SITE, new_context, table_exists, validate_table

    out_dir.mkdir(parents=True, exist_ok=True)
    context = new_context(docs_dir=str(out_dir))
    with _warehouse(target, duckdb_path) as warehouse:
        for suite in SUITES.values():
            for table in suite.table_names():
                if table_exists(warehouse, suite.schema, table):  # a source never loaded has no tables yet
                    validate_table(warehouse, suite, table, context=context, docs=True)
    context.build_data_docs(site_names=[DOCS_SITE])
    return out_dir / "index.html"


def build_dbt_docs(out_dir: Path, *, target: str = "duckdb", duckdb_path: Path | None = None,
                   env: dict[str, str] | None = None) -> Path:
    """`dbt docs generate` into out_dir (its own target and log paths); returns index.html."""
    run_env = {**os.environ, **(env or {})}
    if target == "duckdb":
        path = Path(duckdb_path or local_paths.duckdb_path())
        if not path.exists():
            raise WarehouseMissing(f"no warehouse at {path}: run `make demo` first (it builds the local warehouse)")
        run_env["OMNIRECON_DUCKDB_PATH"] = str(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    project = local_paths.DBT_PROJECT_DIR
    command = [str(DBT_EXECUTABLE) if DBT_EXECUTABLE.exists() else "dbt", "docs", "generate",
               "--project-dir", str(project), "--profiles-dir", str(project), "--target", target,
               "--target-path", str(out_dir), "--log-path", str(out_dir / "logs")]
    run = subprocess.run(command, env=run_env, cwd=out_dir, capture_output=True, text=True)
    if run.returncode != 0 or not (out_dir / "index.html").exists():
        raise RuntimeError(f"dbt docs generate failed:\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}")
    return out_dir / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="default: $OMNIRECON_HOME/docs")
    parser.add_argument("--target", default=os.environ.get("OMNIRECON_TARGET", "duckdb"),
                        choices=["duckdb", "postgres"])
    parser.add_argument("--duckdb-path", type=Path, default=None)
    parser.add_argument("--skip-dbt", action="store_true")
    parser.add_argument("--skip-great-expectations", action="store_true")
    args = parser.parse_args(argv)
    out = (args.out or local_paths.home() / "docs").resolve()
    try:
        if not args.skip_dbt:
            print(f"dbt docs: {build_dbt_docs(out / 'dbt', target=args.target, duckdb_path=args.duckdb_path)}")
        if not args.skip_great_expectations:
            index = build_great_expectations_docs(out / "great_expectations", target=args.target,
                                                  duckdb_path=args.duckdb_path)
            print(f"Great Expectations Data Docs: {index}")
    except WarehouseMissing as missing:
        print(missing, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
