"""What every settlement report parser shares: its result, its quarantine rows and its errors.

A report file either cannot be read at all (ReportFormatError, naming what is missing) or is
read row by row: a bad row is quarantined with its reason and its neighbours still parse.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


class ReportFormatError(ValueError):
    """The file cannot be parsed at all (e.g. its header lacks required columns)."""


class RowError(ValueError):
    """One cell of one row is malformed: the row is quarantined with this message."""


@dataclass(frozen=True)
class QuarantinedRow:
    line_number: int  # 1-based physical line where the record starts (the header is line 1)
    raw: dict | str
    reason: str


@dataclass
class ParsedReport:
    rows: list[dict] = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)


def read_text(source: str | Path | bytes) -> str:
    """File content as text: a path (str or Path) is read, bytes are decoded (UTF-8, BOM dropped)."""
    data = source if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    return bytes(data).decode("utf-8-sig")


def read_header(reader, required: Iterable[str], report_name: str, *, lower: bool = False) -> list[str]:
    """The header row of a csv.reader, checked for the columns a parser needs (ReportFormatError if not there)."""
    try:
        header = [name.strip().lower() if lower else name.strip() for name in next(reader)]
    except StopIteration:
        raise ReportFormatError(f"empty file: no {report_name} header") from None
    missing = [column for column in required if column not in header]
    if missing:
        raise ReportFormatError(f"not {report_name}: header lacks {', '.join(missing)}")
    return header


def data_rows(reader, header: list[str]) -> Iterator[tuple[int, dict, str | None]]:
    """The rows after the header, by column name: (line number, cells, why the row is misshapen or None).

    Blank lines are skipped; cells beyond the header's are kept under "_extra", so a quarantined
    row still shows everything it held.
    """
    next_line = reader.line_num + 1
    for cells in reader:
        line_number, next_line = next_line, reader.line_num + 1  # a quoted cell may span lines
        if not any(cell.strip() for cell in cells):
            continue
        raw = dict(zip(header, cells))
        if len(cells) == len(header):
            yield line_number, raw, None
            continue
        if len(cells) > len(header):
            raw["_extra"] = cells[len(header):]
        yield line_number, raw, f"expected {len(header)} fields as in the header, got {len(cells)}"


def parse_data_rows(reader, header: list[str], parse_row: Callable[[dict, int], dict]) -> ParsedReport:
    """Every data row through `parse_row(cells, line number)`; a misshapen row or a RowError is quarantined."""
    report = ParsedReport()
    for line_number, raw, misshapen in data_rows(reader, header):
        if misshapen:
            report.quarantined.append(QuarantinedRow(line_number, raw, misshapen))
            continue
        try:
            report.rows.append(parse_row(raw, line_number))
        except RowError as error:
            report.quarantined.append(QuarantinedRow(line_number, raw, str(error)))
    return report
