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
    sha256: str


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
        folder = self.root / source / stream / partition
        path = folder / f"{extracted_at:%Y%m%dT%H%M%S%fZ}-p{page:04d}-{digest[:12]}.json"
        if path.exists():
            return path
        folder.mkdir(parents=True, exist_ok=True)
        # Write aside, then rename: a crash never leaves a half-written extract behind.
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)
        return path

    def files(self, source: str, stream: str | None = None, partition: str | None = None) -> list[Path]:
        pattern = f"{stream or '*'}/{partition or '*'}/*.json"
        return sorted((self.root / source).glob(pattern))


def read_landed(path: Path | str) -> LandedExtract:
    path = Path(path)
    body = path.read_bytes()
    doc = json.loads(body)
    return LandedExtract(path=path, source=doc["source"], stream=doc["stream"], partition=doc["partition"],
                         extracted_at=datetime.fromisoformat(doc["extracted_at"]), records=doc["records"],
                         sha256=hashlib.sha256(body).hexdigest())
