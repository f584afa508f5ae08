"""Received webhook events, stored durably and exactly once per (vendor, event id).

Vendors deliver at least once: a retry after a timeout, a duplicate from their queue, the same
event racing itself on two connections. The store keeps one file per event, so whatever arrives
twice is stored once, and the vendor can be told 200 as soon as the file is safely on disk.

Layout, inside the landing zone (`<landing root>/webhooks/<vendor>/<received date>/<event id>.json`),
so `LandingZone(root).files("webhooks", vendor)` lists them and the raw loader reads them as
landed extracts: each file is the landing zone's page envelope (source "webhooks", stream = the
vendor, partition = the UTC date received) holding one record, the event: vendor, event id,
topic, received_at, the headers that matter (never a signature) and the raw body as text, exactly
as the vendor sent it, so a later re-parse sees what the vendor signed.

Exactly once: the file is written aside and fsynced, then hard-linked to its final name, which fails
if the name exists (O_EXCL semantics, atomic on POSIX), under a per-vendor file lock that also
checks the other days' folders (a retry can come a day later: Stripe retries for 3 days). Only the
check and the link hold the lock, so concurrent deliveries write and fsync in parallel.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

SOURCE = "webhooks"
LISTING_MARGIN_NS = 2_000_000_000
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


@dataclass(frozen=True)
class WebhookEvent:
    vendor: str  # shopify, stripe, adyen
    event_id: str  # the vendor's id of the event (Shopify webhook id, Stripe evt_..., Adyen composite)
    topic: str  # Shopify topic, Stripe type, Adyen eventCode
    received_at: datetime  # aware, UTC
    body: str  # the raw request body, decoded as UTF-8 and otherwise untouched
    request_path: str
    headers: dict[str, str] = field(default_factory=dict)
    item_index: int | None = None  # Adyen: which notificationItems entry of the body this event is

    def record(self) -> dict:
        record = {"id": f"{self.vendor}:{self.event_id}", "vendor": self.vendor, "event_id": self.event_id,
                  "topic": self.topic, "received_at": self.received_at.isoformat(), "headers": self.headers,
                  "body": self.body}
        if self.item_index is not None:
            record["item_index"] = self.item_index
        return record


def file_name(event_id: str) -> str:
    """A file name per event id: the id itself when it is file-safe, else a readable part and a hash."""
    if _SAFE_ID.fullmatch(event_id):
        return f"{event_id}.json"
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", event_id)[:80]
    return f"{readable}-{hashlib.sha256(event_id.encode()).hexdigest()[:16]}.json"


class EventStore:
    def __init__(self, landing_root: Path | str):
        self.root = Path(landing_root) / SOURCE

    def __repr__(self) -> str:
        return f"EventStore({str(self.root)!r})"

    def store(self, event: WebhookEvent) -> bool:
        """Store `event` unless an event with its vendor and id is stored already; True when it was new."""
        received_at = event.received_at.astimezone(timezone.utc)
        partition = f"{received_at:%Y-%m-%d}"
        name = file_name(event.event_id)
        directory = self.root / event.vendor / partition
        body = json.dumps({
            "source": SOURCE, "stream": event.vendor, "partition": partition,
            "extracted_at": received_at.isoformat(), "request_url": event.request_path, "page": 0,
            "records": [event.record()],
        }, sort_keys=True, separators=(",", ":")).encode()
        directory.mkdir(parents=True, exist_ok=True)
        # Written and fsynced before the lock: the lock guards only the check across day folders and the link,
        # so deliveries on several connections write and fsync side by side.
        aside = _written_aside(directory, body)
        try:
            with self._vendor_lock(event.vendor):
                earlier = self._stored(event.vendor, event.event_id)
                if earlier is None:
                    try:
                        os.link(aside, directory / name)  # fails if the name exists: never replaces an event
                    except FileExistsError:
                        earlier = directory / name
            # The name must survive a crash before anyone is told 200, a duplicate's sender included: the
            # first delivery of the event may still be on its way to this fsync.
            _fsync_directory(directory if earlier is None else earlier.parent)
            return earlier is None
        finally:
            os.unlink(aside)

    def _stored(self, vendor: str, event_id: str) -> Path | None:
        return next((self.root / vendor).glob(f"*/{file_name(event_id)}"), None)

    def files(self, vendor: str | None = None) -> list[Path]:
        """Every stored event file (absolute), oldest received day first."""
        return sorted(self.root.resolve().glob(f"{vendor or '*'}/*/*.json"), key=lambda p: (p.parent.name, str(p)))

    def day_folders(self) -> list[Path]:
        """Every vendor's folder of a received day (absolute), oldest day first."""
        return sorted((p for p in self.root.resolve().glob("*/*") if p.is_dir()), key=_oldest_day_first)

    def folders_changed_since(self, listed_at_ns: int | None) -> list[Path]:
        """The day folders that may hold files a listing begun at `listed_at_ns` (`time.time_ns()`) did not see;
        every folder when None. A folder whose modification time is older than the listing gained no file since:
        adding a file sets it. The margin covers coarse file-system timestamps and a clock a little off."""
        if listed_at_ns is None:
            return self.day_folders()
        unchanged_before = listed_at_ns - LISTING_MARGIN_NS
        return [folder for folder in self.day_folders() if folder.stat().st_mtime_ns >= unchanged_before]

    def stamp(self) -> str:
        """A text that changes whenever an event is stored: each day folder's modification time, which adding a
        file sets, without listing every event ever stored. Two files added within one tick of a coarse file-system
        clock leave the time as it was, so the most recently modified folders add how many events they hold."""
        folders = [(folder, folder.stat().st_mtime_ns) for folder in self.day_folders()]
        newest = max((mtime for _, mtime in folders), default=0)
        return "\n".join(f"{folder} {mtime} {_count_events(folder) if newest - mtime < LISTING_MARGIN_NS else ''}"
                         for folder, mtime in folders)

    def pending(self, loaded: Iterable[str | Path], folders: Iterable[Path] | None = None) -> list[Path]:
        """Stored event files not among `loaded` (e.g. raw_tables.loaded_files(warehouse)), in `folders` (day
        folders; every one when None), oldest received day first."""
        # Compared as absolute paths. Resolving each of a day's hundred thousand files costs seconds of
        # syscalls; the store makes no links below its root, so its files are absolute once the root is.
        root = f"{self.root.resolve()}{os.sep}"
        done = {p if p.startswith(root) else str(Path(p).resolve()) for p in map(str, loaded)}
        folders = self.day_folders() if folders is None else sorted(folders, key=_oldest_day_first)
        return [p for folder in folders for p in sorted(folder.glob("*.json")) if str(p) not in done]

    @contextmanager
    def _vendor_lock(self, vendor: str):
        # flock works between processes and between threads (each call opens its own descriptor).
        (self.root / vendor).mkdir(parents=True, exist_ok=True)
        with open(self.root / vendor / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _count_events(folder: Path) -> int:
    with os.scandir(folder) as entries:
        return sum(1 for entry in entries if entry.name.endswith(".json") and not entry.name.startswith("."))


def _oldest_day_first(folder: Path) -> tuple[str, str]:
    return folder.name, folder.parent.name  # <vendor>/<received day>: the day, then the vendor


def _written_aside(directory: Path, body: bytes) -> str:
    """A hidden, read-only file holding `body`, fsynced: linked to its final name once known to be new."""
    fd, aside = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(aside, 0o444)
    except BaseException:
        os.unlink(aside)
        raise
    return aside


def _fsync_directory(directory: Path) -> None:
    # The new name must survive a crash too, not only the file's content.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
