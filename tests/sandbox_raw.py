"""Test helpers: a DuckDB warehouse holding everything the sandbox serves, and dbt run against it.

    world, duckdb_file = load_sandbox_raw(CONFIG, tmp_path_factory.mktemp("raw"))
    results = run_dbt(["build", "--select", "+int_amazon__orders"], duckdb_file, tmp_path / "dbt")

`postgres_replica` replays the same landing zone into a scratch PostgreSQL database for run_dbt's
postgres target, and `plain_rows` puts rows from either driver in one comparable form.

`load_sandbox_raw` starts the sandbox retailer, delivers its webhooks, and runs every inbox load and
every API pull of every sandbox day through Dagster, exactly as `omnirecon demo` does (without the
dbt build). `run_dbt` runs dbt in a subprocess with its own target and log folders, so tests (and
people) building at the same time do not share dbt's files.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
from dagster import DagsterInstance

from connectors.landing_zone import LandingZone
from connectors.raw_load import replay_landing_zone
from connectors.sandbox.retailer import start_sandbox
from connectors.sandbox.simulator import SandboxConfig, SandboxWorld
from connectors.warehouse import connect

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


@contextmanager
def _environment(values: dict[str, str]):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def load_sandbox_raw(config: SandboxConfig, home: Path) -> tuple[SandboxWorld, Path]:
    """Everything the sandbox serves and drops, loaded into raw_* tables of `home`/warehouse.duckdb."""
    from orchestration.demo import deliver_sandbox_webhooks, run_pipeline

    home.mkdir(parents=True, exist_ok=True)
    duckdb_file = home / "warehouse.duckdb"
    with _environment({"OMNIRECON_HOME": str(home), "OMNIRECON_DUCKDB_PATH": str(duckdb_file)}):
        with start_sandbox(config, home / "sandbox", retry_after_seconds=0.05) as sandbox:
            with _environment(sandbox.env):
                deliver_sandbox_webhooks(sandbox)
                run_pipeline(config, DagsterInstance.ephemeral(), log=lambda _: None, build=False)
    return sandbox.world, duckdb_file


def run_dbt(args: list[str], duckdb_file: Path | None, work: Path, *, target: str = "duckdb",
            env: dict[str, str] | None = None) -> dict[str, dict]:
    """Run dbt (e.g. ["build", "--select", "..."]) on the DuckDB file or the target's database; returns
    run_results by node id and fails the test on any error or failed test."""
    work.mkdir(parents=True, exist_ok=True)
    dbt = Path(sys.executable).with_name("dbt")
    # A test whose parents are not all selected stays out (a relationship test to a mart not built).
    selection = ["--indirect-selection", "cautious"] if "--select" in args else []
    command = [str(dbt) if dbt.exists() else "dbt", *args, *selection,
               "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target", target,
               "--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    run_env = {**os.environ, **(env or {})}
    if duckdb_file is not None:
        run_env["OMNIRECON_DUCKDB_PATH"] = str(duckdb_file)
    run = subprocess.run(command, env=run_env, cwd=work, capture_output=True, text=True)
    results_file = work / "target" / "run_results.json"
    if not results_file.exists():
        pytest.fail(f"dbt {' '.join(args)} did not run:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}")
    results = {r["unique_id"]: r for r in json.loads(results_file.read_text())["results"]}
    failed = [f"{node}: {r['status']}: {r['message']}" for node, r in results.items()
              if r["status"] in ("error", "fail", "runtime error")]
    if failed:
        pytest.fail(f"dbt {' '.join(args)} failed:\n" + "\n".join(failed) + "\n" + run.stdout[-3000:])
    return results


@contextmanager
def postgres_replica(server: dict, home: Path, prefix: str):
    """A scratch PostgreSQL database holding everything `home`'s landing zone holds (the raw tables
    load_sandbox_raw filled in DuckDB); yields (dsn, env for run_dbt's postgres target), then drops it."""
    name = f"omnirecon_{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host=server["host"], port=server["port"], user=server["user"], dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"create database {name}")
    dsn = f"postgresql://{server['user']}@{server['host']}:{server['port']}/{name}"
    try:
        with connect(dsn) as warehouse:
            replay_landing_zone(warehouse, LandingZone(home / "landing"))
        yield dsn, {"OMNIRECON_PG_HOST": server["host"], "OMNIRECON_PG_PORT": str(server["port"]),
                    "OMNIRECON_PG_USER": server["user"], "OMNIRECON_PG_PASSWORD": "", "OMNIRECON_PG_DBNAME": name,
                    "OMNIRECON_PG_SCHEMA": "public"}
    finally:
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {name} with (force)")
        admin.close()


def query(target: str, sql: str) -> list[tuple]:
    """Rows of a query on a DuckDB file or a PostgreSQL DSN (read only)."""
    if target.startswith("postgresql://"):
        with psycopg2.connect(target) as conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    import duckdb

    with duckdb.connect(target, read_only=True) as conn:
        return conn.execute(sql).fetchall()


def plain_rows(rows) -> list[tuple]:
    """Rows in a form both drivers agree on (exact decimals, UTC instants), sorted."""
    def plain(value):
        if isinstance(value, Decimal):
            return value.normalize()
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    return sorted((tuple(plain(v) for v in row) for row in rows), key=repr)
