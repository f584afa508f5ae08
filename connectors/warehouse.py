"""Connections to the warehouse: an embedded DuckDB file (the default) or PostgreSQL.

Only what the loaders need: run SQL, read rows, and bulk-copy a CSV file into a table, which
each engine does natively (DuckDB read_csv, PostgreSQL COPY), so no load ever goes row by row.
"""
from __future__ import annotations

import os
from pathlib import Path

NULL = r"\N"
# DuckDB's memory before it spills to disk: the same default as dbt_project/profiles.yml.
DEFAULT_DUCKDB_MEMORY_LIMIT = "3GB"


def duckdb_settings() -> dict[str, str]:
    """What every DuckDB connection to the warehouse is opened with (OMNIRECON_DUCKDB_MEMORY_LIMIT: "3GB", "60%")."""
    return {"memory_limit": os.environ.get("OMNIRECON_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT}


def _quoted(columns) -> str:
    # Vendor field names such as "authorization" and "date" are SQL keywords.
    return ", ".join(f'"{c}"' for c in columns)


class _Connection:
    """Closing, and use as a context manager: the same for every warehouse."""

    conn = None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DuckDBWarehouse(_Connection):
    dialect = "duckdb"

    def __init__(self, path: Path | str):
        import duckdb

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self.conn = duckdb.connect(self.path, config=duckdb_settings())

    def execute(self, sql: str, params: tuple | list | None = None) -> None:
        self.conn.execute(sql, params or [])

    def fetchall(self, sql: str, params: tuple | list | None = None) -> list[tuple]:
        return self.conn.execute(sql, params or []).fetchall()

    def copy_csv(self, table: str, columns: dict[str, str], csv_path: Path) -> None:
        spec = "{" + ", ".join(f"'{c}': '{t}'" for c, t in columns.items()) + "}"
        self.conn.execute(
            f"insert into {table} ({_quoted(columns)}) select * from read_csv(?, header=true, "
            f"columns={spec}, nullstr=?, quote='\"', escape='\"', allow_quoted_nulls=false, auto_detect=false)",
            [str(csv_path), NULL])

    def begin(self) -> None:
        self.conn.execute("begin transaction")

    def commit(self) -> None:
        self.conn.execute("commit")

    def rollback(self) -> None:
        self.conn.execute("rollback")


class PostgresWarehouse(_Connection):
    dialect = "postgres"

    def __init__(self, dsn: str):
        import psycopg2

        self.conn = psycopg2.connect(dsn)

    def execute(self, sql: str, params: tuple | list | None = None) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params or None)

    def fetchall(self, sql: str, params: tuple | list | None = None) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params or None)
            return cur.fetchall()

    def copy_csv(self, table: str, columns: dict[str, str], csv_path: Path) -> None:
        with self.conn.cursor() as cur, open(csv_path, encoding="utf-8") as handle:
            cur.copy_expert(f"copy {table} ({_quoted(columns)}) from stdin "
                            f"with (format csv, header true, null '{NULL}')", handle)

    def begin(self) -> None:
        pass  # psycopg2 opens a transaction with the first statement

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()


def connect(target: str):
    """`postgresql://...` opens PostgreSQL; anything else is a DuckDB file path."""
    if target.startswith(("postgresql://", "postgres://")):
        return PostgresWarehouse(target)
    return DuckDBWarehouse(target.removeprefix("duckdb://"))
