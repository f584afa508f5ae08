"""The landing zone: immutable raw extracts on disk, the audit trail and the replay source.

Every page a connector fetches is written once, as it came, before anything else happens to
it. A file is named by when it was fetched and by a hash of its content, and is never
rewritten: landing the same page again returns the existing file.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


@dataclass(frozen=True)
class LandedExtract:
    path: Path
    source: str
    stream: str
    partition: str
    extracted_at: datetime
    records: list[dict]


class LandingZone:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def land(self, source: str, stream: str, partition: str, records: list[dict], *,
             extracted_at: datetime | None = None, request_url: str | None = None, page: int = 0) -> Path:
        extracted_at = (extracted_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
        body = json.dumps({
            "source": source, "stream": stream, "partition": partition,
            "extracted_at": extracted_at.isoformat(), "request_url": request_url, "page": page,
            "records": records,
        }, sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha256(body).hexdigest()
        path = self.root / source / stream / partition / f"{extracted_at:%Y%m%dT%H%M%S%fZ}-p{page:04d}-{digest[:12]}.json"
        return _write_once(path, body)

    def land_file(self, source: str, stream: str, partition: str, dropped: Path) -> Path:
        """Land a dropped file (a vendor report) byte for byte, named by its content hash."""
        body = Path(dropped).read_bytes()
        digest = hashlib.sha256(body).hexdigest()
        return _write_once(self.root / source / stream / partition / f"{digest[:12]}-{Path(dropped).name}", body)

    def has_content(self, source: str, stream: str, digest: str) -> bool:
        """Was a file with this content hash landed for this source and stream already (any day, any name)?"""
        return any((self.root / source / stream).glob(f"*/{digest[:12]}-*"))

    def files(self, source: str, stream: str | None = None, partition: str | None = None,
              suffix: str = ".json") -> list[Path]:
        pattern = f"{stream or '*'}/{partition or '*'}/*{suffix}"
        # a .tmp file is a landing still being written (see _write_once)
        return sorted(p for p in (self.root / source).glob(pattern) if p.suffix != ".tmp")


def _write_once(path: Path, body: bytes) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write aside, then rename: a crash never leaves a half-written extract behind.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)
    os.chmod(tmp, 0o444)
    os.replace(tmp, path)
    return path


def read_landed(path: Path | str) -> LandedExtract:
    """The landed page at `path`."""
    path = Path(path)
    doc = json.loads(path.read_bytes())
    return LandedExtract(path=path, source=doc["source"], stream=doc["stream"], partition=doc["partition"],
                         extracted_at=datetime.fromisoformat(doc["extracted_at"]), records=doc["records"])
