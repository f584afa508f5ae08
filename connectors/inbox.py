"""The inbox: files that vendors and users drop (settlement reports, Z reports, bank statements).

Each source has its own folder under the inbox root (`<root>/<source>/`). A dropped file is taken
exactly once, by its content hash: it is landed byte for byte in the landing zone and moved to
`processed/`; the same content dropped again, under any name, lands nothing and moves to
`processed/` as a duplicate; a file the source's parser cannot read at all moves to
`quarantine/` beside a `.reason.txt` that says why. Rows that are bad inside a readable file are
the parser's to quarantine: the file still lands, and the raw load keeps its good rows.
"""
from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from connectors.landing_zone import LandingZone

DROPPED_FILES = "files"  # the landing-zone stream that holds dropped files as they came


@dataclass(frozen=True)
class InboxOutcome:
    dropped: Path
    status: str  # landed, duplicate or quarantined
    landed: Path | None = None
    reason: str | None = None
    rows: int = 0
    rows_quarantined: int = 0


class Inbox:
    def __init__(self, root: Path | str, landing: LandingZone):
        self.root = Path(root)
        self.landing = landing

    def pending(self, source: str) -> list[Path]:
        folder = self.root / source
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))

    def take(self, source: str, dropped: Path, parse: Callable[[Path], object], partition: str) -> InboxOutcome:
        """Land one dropped file, or set it aside; `parse` returns a report with rows and quarantined."""
        digest = hashlib.sha256(dropped.read_bytes()).hexdigest()
        if self.landing.has_content(source, DROPPED_FILES, digest):
            self._move(dropped, "processed", f"duplicate-{digest[:12]}-")
            return InboxOutcome(dropped, "duplicate")
        try:
            report = parse(dropped)
        except (ValueError, UnicodeDecodeError) as error:  # ReportFormatError is a ValueError
            reason = f"{type(error).__name__}: {error}"
            moved = self._move(dropped, "quarantine", "")
            moved.with_name(moved.name + ".reason.txt").write_text(reason + "\n")
            return InboxOutcome(dropped, "quarantined", reason=reason)
        landed = self.landing.land_file(source, DROPPED_FILES, partition, dropped)
        self._move(dropped, "processed", "")
        return InboxOutcome(dropped, "landed", landed=landed, rows=len(report.rows),
                            rows_quarantined=len(report.quarantined))

    def _move(self, dropped: Path, folder: str, prefix: str) -> Path:
        target = dropped.parent / folder / f"{prefix}{dropped.name}"
        target.parent.mkdir(exist_ok=True)
        if target.exists():  # a second file of the same name: keep both
            target = target.with_name(f"{target.stem}-{hashlib.sha256(dropped.read_bytes()).hexdigest()[:8]}{target.suffix}")
        return Path(shutil.move(str(dropped), target))
