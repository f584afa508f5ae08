"""Resumable extraction: page through one Shopify list request, handing each page over as it comes.

    cursors = CursorStore(Path(".omnirecon/state/shopify_cursors.json"))
    extract_window(client, stream_key("orders", "2026-11-02"), "orders.json",
                   {"status": "any", "updated_at_min": ..., "updated_at_max": ...}, "orders",
                   cursors, on_page=lambda page, number: landing.land(...))   # -> records handed over

A stream key names one extraction (a stream and a window, e.g. "orders/2026-11-02"). After each
page is handed to `on_page` (which lands it as an immutable file) the key's cursor is saved:

    {"request": "orders.json?status=any&updated_at_max=...&updated_at_min=...",
     "next_url": "https://.../orders.json?limit=250&page_info=...", "pages_done": 3,
     "high_water_mark": "2026-11-02T18:03:00-05:00", "completed": false}

so a run that dies mid-way (ShopifyAPIError after retries, a killed process) starts again at the
saved next page, not page one. A completed key is skipped (0 records, no request) unless
`force=True`, which extracts it again from the start. A page whose landing succeeded but whose
cursor was not saved yet is fetched and landed again: delivery is at-least-once, and the raw
load dedupes. If the same key is asked for with other filters, the saved cursor belongs to
another request and the extraction starts over.

`high_water_mark` is the latest value of the stream's change field seen (orders: updated_at,
payouts: date, balance transactions: processed_at), for the next window.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from connectors.shopify.client import Page, ShopifyAdminClient

try:
    import fcntl
except ImportError:  # not POSIX: one process at a time is then the caller's job
    fcntl = None

log = logging.getLogger(__name__)

STREAMS = ("orders", "order_transactions", "payouts", "balance_transactions")
HIGH_WATER_FIELDS = {"orders": "updated_at", "payouts": "date", "balance_transactions": "processed_at"}


def stream_key(stream: str, *window: str) -> str:
    """The cursor key of one stream and window, e.g. stream_key("orders", "2026-11-02") -> "orders/2026-11-02"."""
    if stream not in STREAMS:
        raise ValueError(f"unknown Shopify stream {stream!r}; expected one of {STREAMS}")
    return "/".join((stream, *window))


@dataclass
class StreamCursor:
    request: str | None = None  # the request this cursor belongs to (path and sorted filters)
    next_url: str | None = None
    pages_done: int = 0
    high_water_mark: str | None = None
    completed: bool = False


class CursorStore:
    """Cursors of every stream key in one JSON file, safe for several processes (file lock, atomic rename)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def get(self, key: str) -> StreamCursor:
        saved = self._read().get(key)
        return StreamCursor(**saved) if saved else StreamCursor()

    def save(self, key: str, cursor: StreamCursor) -> None:
        with self._locked():
            cursors = self._read()
            cursors[key] = asdict(cursor)
            self._write(cursors)

    def reset(self, key: str) -> None:
        with self._locked():
            cursors = self._read()
            if cursors.pop(key, None) is not None:
                self._write(cursors)

    def all(self) -> dict[str, StreamCursor]:
        return {key: StreamCursor(**value) for key, value in self._read().items()}

    def _read(self) -> dict[str, dict]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def _write(self, cursors: dict[str, dict]) -> None:
        # Write aside, then rename: a crash never leaves a torn cursor file.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(cursors, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, self.path)

    @contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            yield
            return
        # Dagster may run several partitions in separate processes against the same cursor file.
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def extract_window(client: ShopifyAdminClient, stream_key: str, path: str, params: dict, key: str,
                   cursor_store: CursorStore, on_page: Callable[[Page, int], None], *, force: bool = False,
                   high_water_field: str | None = None) -> int:
    """Page through `path` with `params`, calling on_page(page, page_number) for each page (numbered
    from 1 across restarts), saving the cursor after each. Returns the records handed over by this call.

    high_water_field defaults to the stream's change field (HIGH_WATER_FIELDS, by the key's first part).
    """
    request = f"{path}?{urlencode(sorted((k, str(v)) for k, v in params.items()))}"
    field = high_water_field or HIGH_WATER_FIELDS.get(stream_key.split("/")[0])
    cursor = cursor_store.get(stream_key)
    if cursor.request != request or force:
        if cursor.request not in (None, request):
            log.warning("cursor %s was saved for another request (%s); extracting from the start",
                        stream_key, cursor.request)
        cursor = StreamCursor(request=request)
    if cursor.completed:
        return 0
    if cursor.next_url:
        log.info("resuming %s after page %d", stream_key, cursor.pages_done)
        pages = client.resume_pages(cursor.next_url, key)
    else:
        pages = client.get_pages(path, params, key)

    records = 0
    for page in pages:
        number = cursor.pages_done + 1
        on_page(page, number)
        records += len(page.records)
        cursor.pages_done = number
        cursor.next_url = page.next_url
        cursor.completed = page.next_url is None
        if field:
            cursor.high_water_mark = _latest(cursor.high_water_mark, (r.get(field) for r in page.records))
        cursor_store.save(stream_key, cursor)
    return records


def _latest(current: str | None, values) -> str | None:
    """The latest of ISO timestamps / dates, compared as instants (offsets differ), kept as sent."""
    best, best_at = current, _instant(current)
    for value in values:
        at = _instant(value)
        if at is not None and (best_at is None or at > best_at):
            best, best_at = value, at
    return best


def _instant(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # A bare date (payouts) or a naive time compares as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
