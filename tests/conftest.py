"""Shared fixtures: a real PostgreSQL server, fresh databases, and an isolated omnirecon home."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2
import pytest


REPO_ROOT = Path(__file__).resolve().parent.parent


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    """PostgreSQL to test against: OMNIRECON_PG_HOST/PORT or 127.0.0.1:5432 when one answers there,
    else a throwaway server started from the local PostgreSQL binaries."""
    host = os.environ.get("OMNIRECON_PG_HOST", "127.0.0.1")
    port = int(os.environ.get("OMNIRECON_PG_PORT", "5432"))
    user = os.environ.get("OMNIRECON_PG_USER", "postgres")
    if _reachable(host, port):
        yield {"host": host, "port": port, "user": user}
        return
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb")]
    if not binaries or not binaries[-1]:
        pytest.fail("no PostgreSQL answers on 127.0.0.1:5432 and no initdb was found to start one")
    bindir = Path(binaries[-1]).parent
    data = Path(tempfile.mkdtemp(prefix="omnirecon-pg-"))
    # initdb refuses to run as root: run the throwaway server as the postgres user then.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "--auth=trust"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-l", str(data / "log"), "-w", "-o",
                    f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    try:
        yield {"host": "127.0.0.1", "port": port, "user": "postgres"}
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_server, monkeypatch):
    """A fresh, empty database (dropped afterwards); the OMNIRECON_PG_* variables point at it."""
    name = f"omnirecon_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host=postgres_server["host"], port=postgres_server["port"],
                             user=postgres_server["user"], dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"create database {name}")
    for key, value in (("HOST", postgres_server["host"]), ("PORT", str(postgres_server["port"])),
                       ("USER", postgres_server["user"]), ("DBNAME", name)):
        monkeypatch.setenv(f"OMNIRECON_PG_{key}", value)
    try:
        yield f"postgresql://{postgres_server['user']}@{postgres_server['host']}:{postgres_server['port']}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {name} with (force)")
        admin.close()


@pytest.fixture
def omnirecon_home(tmp_path, monkeypatch) -> Path:
    """An isolated omnirecon home: landing zone, DuckDB warehouse and exports under tmp_path."""
    home = tmp_path / "omnirecon"
    monkeypatch.setenv("OMNIRECON_HOME", str(home))
    monkeypatch.setenv("OMNIRECON_DUCKDB_PATH", str(home / "warehouse.duckdb"))
    monkeypatch.delenv("OMNIRECON_LANDING_ROOT", raising=False)
    monkeypatch.delenv("OMNIRECON_EXPORT_ROOT", raising=False)
    return home
