"""Load landed extracts into the warehouse's raw tables, idempotently and in bulk.

Each record is validated against its vendor model and flattened into raw rows; a record that
fails is quarantined with the reason, and the rest of its file goes on. Every row carries a
hash of its content: a row already in its table is not inserted again, and a landed file
already loaded (same content hash) is skipped, so loading the same extract twice changes nothing.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType

from pydantic import ValidationError

from connectors.adyen import settlement_details as adyen_settlement_details
from connectors.amazon import raw_tables as amazon_raw_tables
from connectors.bank import raw_tables as bank_raw_tables
from connectors.erp import raw_tables as erp_raw_tables
from connectors.gc_pause import cyclic_gc_paused
from connectors.landing_zone import read_landed
from connectors.marketplace import raw_tables as marketplace_raw_tables
from connectors.shopify import raw_tables as shopify_raw_tables
from connectors.square import raw_tables as square_raw_tables
from connectors.stripe import raw_tables as stripe_raw_tables
from connectors.webhooks import raw_tables as webhook_raw_tables
from connectors.wms import raw_tables as wms_raw_tables
from connectors.warehouse import NULL

# source name -> module with SCHEMA and RAW_TABLES, and either flatten(stream, payload) for API
# extracts (JSON pages) or parse_file(path) and FILE_TABLE for dropped report files. A payload names
# itself by "id" unless the module's PAYLOAD_ID_FIELDS says otherwise for its stream.
RAW_SOURCES: dict[str, ModuleType] = {
    "shopify": shopify_raw_tables,
    "stripe": stripe_raw_tables,
    "amazon": amazon_raw_tables,
    "amazon_settlements": amazon_raw_tables,  # Seller Central downloads dropped in the inbox
    "square": square_raw_tables,
    "pos_z_reports": square_raw_tables,  # stores' end-of-day Z reports
    "wms": wms_raw_tables,
    "wms_snapshots": wms_raw_tables,  # the 3PL's end-of-day snapshot files
    "erp": erp_raw_tables,
    "adyen_settlements": adyen_settlement_details,
    "webhooks": webhook_raw_tables,
    "bank_statements": bank_raw_tables,
    # one per marketplace mapping file (marketplace_bazaarly, ...): onboarding one adds no code
    **marketplace_raw_tables.source_modules(),
}

METADATA_COLUMNS = {"_record_hash": "varchar", "_landed_file": "varchar", "_extracted_at": "timestamptz"}
QUARANTINE_COLUMNS = {"stream": "varchar", "record_id": "varchar", "reason": "varchar", "_payload": "varchar",
                      **METADATA_COLUMNS}
LANDED_FILES_COLUMNS = {"landed_file": "varchar", "sha256": "varchar", "stream": "varchar",
                        "partition_key": "varchar", "record_count": "integer", "quarantined_count": "integer"}


@dataclass
class LoadReport:
    files_loaded: int = 0
    files_skipped: int = 0
    records_seen: int = 0
    quarantined: int = 0
    rows_inserted: dict[str, int] = field(default_factory=dict)
    records_by_stream: dict[str, int] = field(default_factory=dict)
    quarantine_reasons: list[str] = field(default_factory=list)


def _column_list(columns: dict[str, str]) -> str:
    return ", ".join(f'"{c}" {t}' for c, t in columns.items())


def _table_ddl(name: str, columns: dict[str, str]) -> str:
    return f"create table if not exists {name} ({_column_list(columns)}, _loaded_at timestamptz)"


def ensure_raw_tables(warehouse, source: str = "shopify") -> None:
    module = RAW_SOURCES[source]
    warehouse.execute(f"create schema if not exists {module.SCHEMA}")
    for table, columns in module.RAW_TABLES.items():
        warehouse.execute(_table_ddl(f"{module.SCHEMA}.{table}", {**columns, **METADATA_COLUMNS}))
    warehouse.execute(_table_ddl(f"{module.SCHEMA}._quarantine", QUARANTINE_COLUMNS))
    warehouse.execute(_table_ddl(f"{module.SCHEMA}._landed_files", LANDED_FILES_COLUMNS))
    if warehouse.dialect == "postgres":
        # A load looks up each incoming row's key: by index, not by reading the table's history. (DuckDB
        # hash-joins one column of its columnar store instead; an index there would only slow the copy.)
        for table in [*module.RAW_TABLES, "_quarantine"]:
            warehouse.execute(f"create index if not exists {table}__record_hash "
                              f"on {module.SCHEMA}.{table} (_record_hash)")
        warehouse.execute(f"create index if not exists _landed_files__sha256 on {module.SCHEMA}._landed_files (sha256)")


def ensure_every_raw_table(warehouse) -> None:
    """Every source's raw tables, empty where nothing was loaded yet: a retailer without one of the
    channels still builds the whole dbt project (its staging reads empty tables)."""
    for source in {module.SCHEMA: source for source, module in RAW_SOURCES.items()}.values():
        ensure_raw_tables(warehouse, source)


_AS_IS = frozenset({str, int, Decimal})  # most cells: written as they are (checked by exact type, so bool is not int)


def _cell(value):
    if value is None:
        return NULL
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# json.dumps([...], sort_keys=True, default=str) without building an encoder per row: the same text, so the
# same hash as every version before (a row loaded by an older version dedupes against the same row loaded now).
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, default=str)


def _hashed_cells(table: str, row: dict) -> tuple[str, dict]:
    """The row's record hash, and its cells as they are written to the warehouse (converted once, used twice)."""
    cells = {k: v if type(v) in _AS_IS else _cell(v) for k, v in row.items()}
    return hashlib.sha256(_CANONICAL_JSON.encode([table, cells]).encode()).hexdigest(), cells


def _row_hash(table: str, row: dict) -> str:
    return _hashed_cells(table, row)[0]


def _validation_reason(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "record"
    return f"{error.error_count()} validation error(s); first: {where}: {first['msg']}"


@dataclass
class _FileRows:
    """One landed file read into raw rows: what it holds, and what had to be quarantined."""
    stream: str
    partition: str
    extracted_at: datetime
    records_seen: int
    rows: list[tuple[str, dict]] = field(default_factory=list)  # (table, row)
    quarantine: list[dict] = field(default_factory=list)


def _read_extract(module, path: Path) -> _FileRows:
    """A landed API extract (JSON pages): validate and flatten each payload."""
    extract = read_landed(path)
    read = _FileRows(extract.stream, extract.partition, extract.extracted_at, len(extract.records))
    for payload in extract.records:
        try:
            flattened = module.flatten(extract.stream, payload)
        except ValidationError as error:
            id_field = getattr(module, "PAYLOAD_ID_FIELDS", {}).get(extract.stream, "id")
            read.quarantine.append({"stream": extract.stream, "record_id": str(payload.get(id_field)),
                                    "reason": _validation_reason(error),
                                    "_payload": json.dumps(payload, sort_keys=True)})
            continue
        read.rows += [(table, row) for table, table_rows in flattened.items() for row in table_rows]
    return read


def _read_dropped_file(module, path: Path) -> _FileRows:
    """A landed vendor report file: the source's parser reads it and quarantines its bad rows."""
    parsed = module.parse_file(path)
    read = _FileRows(module.FILE_TABLE, path.parent.name, datetime.fromtimestamp(path.stat().st_mtime, timezone.utc),
                     len(parsed.rows) + len(parsed.quarantined))
    read.rows = [(module.FILE_TABLE, row) for row in parsed.rows]
    read.quarantine = [{"stream": module.FILE_TABLE, "record_id": f"line {bad.line_number}", "reason": bad.reason,
                        "_payload": json.dumps(bad.raw, sort_keys=True, default=str)} for bad in parsed.quarantined]
    return read


def _table_columns(module, table: str) -> dict[str, str]:
    """The table's columns; the metadata columns come last (no raw table names one of them)."""
    return {**module.RAW_TABLES[table], **METADATA_COLUMNS} if table in module.RAW_TABLES else QUARANTINE_COLUMNS


def load_landed_files(warehouse, paths: list[Path], source: str = "shopify") -> LoadReport:
    """Load landed files into raw tables in one transaction; returns what happened to them."""
    module = RAW_SOURCES[source]
    ensure_raw_tables(warehouse, source)
    with cyclic_gc_paused():
        report, rows, landed_rows = _read_batch(source, warehouse, [Path(p) for p in paths])
    if not landed_rows:
        return report
    warehouse.begin()
    try:
        for table, by_hash in rows.items():
            report.rows_inserted[table] = _insert_new(warehouse, f"{module.SCHEMA}.{table}",
                                                      _table_columns(module, table), by_hash.values())
        _insert_new(warehouse, f"{module.SCHEMA}._landed_files", LANDED_FILES_COLUMNS, [_csv_text(landed_rows)],
                    key="sha256")
        warehouse.commit()
    except Exception:
        warehouse.rollback()
        raise
    return report


def _read_batch(source: str, warehouse, paths: list[Path]) -> tuple[LoadReport, dict[str, dict[str, str]], list]:
    """The rows of the files not loaded yet, by table and record hash, and a row of _landed_files for each file."""
    report = LoadReport()
    # Hashed before anything is parsed, so that only the batch's hashes are looked up and a file loaded before is
    # not parsed again (~0.4 s for 38k webhook files, 90 MB; the parse reads them again from the page cache).
    hashes = [hashlib.sha256(path.read_bytes()).hexdigest() for path in paths]
    seen = _loaded_before(warehouse, RAW_SOURCES[source].SCHEMA, set(hashes))
    new = []
    for path, sha256 in zip(paths, hashes):
        # A file already loaded is told by its content hash alone: a replay does not parse or validate it again.
        if sha256 in seen:
            report.files_skipped += 1
        else:
            seen.add(sha256)
            new.append((path, sha256))
    # table -> record hash -> the row as a CSV line of its table (dedupes the batch; the last file wins)
    rows: dict[str, dict[str, str]] = defaultdict(dict)
    landed_rows = []
    for read in _rendered_files(source, new):
        for table, digest, line in read.rows:
            rows[table][digest] = line
        report.quarantine_reasons += read.quarantine_reasons
        report.files_loaded += 1
        report.records_seen += read.records_seen
        report.quarantined += len(read.quarantine_reasons)
        report.records_by_stream[read.stream] = report.records_by_stream.get(read.stream, 0) + read.records_seen
        landed_rows.append([read.path, read.sha256, read.stream, read.partition, read.records_seen,
                            len(read.quarantine_reasons)])
    return report, rows, landed_rows


def _loaded_before(warehouse, schema: str, hashes: set[str]) -> set[str]:
    """Those of the batch's content hashes that a file loaded before had. Only the batch is looked up, not every
    file the source ever loaded: a load costs what it brings, whatever the history."""
    if not hashes:
        return set()
    scratch = _copied_to_scratch(warehouse, f"{schema}._landed_files", {"sha256": "varchar"},
                                 [_csv_text([[sha256] for sha256 in hashes])])
    loaded = {sha256 for (sha256,) in warehouse.fetchall(
        f"select distinct b.sha256 from {scratch} b join {schema}._landed_files l on l.sha256 = b.sha256")}
    warehouse.execute(f"drop table {scratch}")
    return loaded


@dataclass
class _RenderedFile:
    """One landed file as the rows it brings, each already a CSV line of its table."""
    path: str
    sha256: str
    stream: str
    partition: str
    records_seen: int
    quarantine_reasons: list[str]
    rows: list[tuple[str, str, str]]  # (table, record hash, CSV line)


def _render_file(source: str, path: Path, sha256: str) -> _RenderedFile:
    """Read, validate and flatten one landed file (`sha256`: its content hash), and write each row as the CSV
    line the copy reads."""
    module = RAW_SOURCES[source]
    read = _read_extract(module, path) if path.suffix == ".json" else _read_dropped_file(module, path)
    meta = [str(path), _cell(read.extracted_at)]  # _landed_file, _extracted_at: the file's, on each of its rows
    data_columns = _data_columns(source)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    spans, end = [], 0
    for table, row in [*read.rows, *(("_quarantine", quarantine) for quarantine in read.quarantine)]:
        digest, cells = _hashed_cells(table, row)
        start, end = end, end + writer.writerow([*[cells.get(c, NULL) for c in data_columns[table]], digest, *meta])
        spans.append((table, digest, start, end))
    text = buffer.getvalue()
    return _RenderedFile(str(path), sha256, read.stream, read.partition, read.records_seen,
                         [f"{q['stream']} {q['record_id']}: {q['reason']}" for q in read.quarantine],
                         [(table, digest, text[start:end]) for table, digest, start, end in spans])


@functools.cache
def _data_columns(source: str) -> dict[str, list[str]]:
    """Each table's columns before the metadata columns, in order."""
    module = RAW_SOURCES[source]
    return {table: list(_table_columns(module, table))[:-len(METADATA_COLUMNS)]
            for table in [*module.RAW_TABLES, "_quarantine"]}


# A batch of at least this many bytes is read by worker processes, one a core: reading is Python (JSON, pydantic,
# a SHA-256 a row) and holds one core, while starting a worker costs ~0.6 s (it imports the connectors).
WORKER_BATCH_BYTES = 32 * 2**20


def _rendered_files(source: str, files: list[tuple[Path, str]]) -> Iterator[_RenderedFile]:
    """Each file (path, content hash) rendered, in order: in this process, or for a big batch by worker processes."""
    workers = len(os.sched_getaffinity(0))
    if workers < 2 or len(files) < 2 or not _holds_at_least([path for path, _ in files], WORKER_BATCH_BYTES):
        for path, sha256 in files:
            yield _render_file(source, path, sha256)
        return
    from connectors import raw_load_worker  # a module of its own: `python -m` runs it as __main__

    shares = raw_load_worker.render_in_workers(source, [files[i::workers] for i in range(workers)])
    for position in range(len(files)):  # the shares were dealt like cards: take them back in the same order
        yield shares[position % workers][position // workers]


def _holds_at_least(paths: list[Path], size: int) -> bool:
    total = 0
    for path in paths:
        total += path.stat().st_size
        if total >= size:
            return True
    return False


def _csv_text(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _insert_new(warehouse, table: str, columns: dict[str, str], lines, key: str = "_record_hash") -> int:
    """Bulk-copy rows (CSV lines, cells in column order) into a scratch table, drop those the table has already,
    insert the rest. Only the batch is counted, never the table: the cost of a load is what it brings, not the
    history."""
    if not lines:
        return 0
    scratch = _copied_to_scratch(warehouse, table, columns, lines)
    warehouse.execute(f"delete from {scratch} where exists (select 1 from {table} t where t.{key} = {scratch}.{key})")
    (new,), = warehouse.fetchall(f"select count(*) from {scratch}")
    if new:
        quoted = ", ".join(f'"{c}"' for c in columns)
        warehouse.execute(f"insert into {table} ({quoted}, _loaded_at) "
                          f"select {quoted}, current_timestamp from {scratch}")
    warehouse.execute(f"drop table {scratch}")
    return new


def _copied_to_scratch(warehouse, table: str, columns: dict[str, str], lines) -> str:
    """A temporary table of the batch's rows (CSV lines, cells in column order) bound for `table`, bulk-copied."""
    scratch = "_incoming_" + table.replace(".", "_")
    warehouse.execute(f"drop table if exists {scratch}")
    warehouse.execute(f"create temp table {scratch} ({_column_list(columns)})")
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8", delete=False) as handle:
        csv.writer(handle).writerow(columns)
        handle.writelines(lines)
    try:
        warehouse.copy_csv(scratch, columns, Path(handle.name))
    finally:
        Path(handle.name).unlink()
    return scratch


def replay_landing_zone(warehouse, landing) -> dict[str, LoadReport]:
    """Load everything the landing zone holds into a warehouse, source by source: what rebuilding a
    warehouse from scratch (or filling a second one) takes, without calling any channel API. Loading
    is idempotent, so replaying into a warehouse that has some of it already adds only what it lacks."""
    return {source: load_landed_files(warehouse, landing.files(source, suffix=""), source=source)
            for source in RAW_SOURCES if (landing.root / source).is_dir()}
