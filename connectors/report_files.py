"""What every settlement report parser shares: its result, its quarantine rows and its errors.

A report file either cannot be read at all (ReportFormatError, naming what is missing) or is
read row by row: a bad row is quarantined with its reason and its neighbours still parse.
"""
from __future__ import annotations

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
