"""What every fake vendor API of the sandbox shares: a threaded HTTP/1.1 JSON server on loopback.

A subclass answers requests in `handle` and records them in `log_request`; this module does the
socket, the keep-alive, the start and stop, and turns a bug in a fake into a 500 like a real API.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


class _JSONHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the connectors' sessions expect
    # Headers and body go out in two writes: without TCP_NODELAY each keep-alive request waits
    # ~40 ms on Nagle's algorithm and the client's delayed ACK.
    disable_nagle_algorithm = True
    api: FakeVendorAPI  # set on the subclass made per server

    def log_message(self, format, *args):  # noqa: A002 - quiet: tests read request_log instead
        pass

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            status, body, headers = self.api.handle(method, split.path, query, self.headers, body)
        except Exception as error:  # a bug in the fake must still answer, like a real 500
            status, body, headers = 500, self.api.internal_error_body(error), {}
        self.api.log_request(method, split.path, query, status, self.headers)
        # bytes go out as they are (a report file download); everything else is JSON
        raw = isinstance(body, bytes)
        payload = body if raw else json.dumps(body, default=self.api.json_default).encode()
        self.send_response(status)
        if not raw or "Content-Type" not in headers:
            self.send_header("Content-Type", "application/octet-stream" if raw else "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class FakeVendorAPI:
    """Base of the fake vendor APIs: binds its port at creation, so base_url works before start()."""

    server_version = "FakeVendor/1.0"

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.request_log: list = []
        self._lock = threading.Lock()
        handler = type("Handler", (_JSONHandler,), {"api": self, "server_version": self.server_version})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._listings: OrderedDict[tuple, tuple[list, Any]] = OrderedDict()

    LISTINGS_KEPT = 16

    def listing(self, request: Hashable, records: list, select: Callable[[], Any]) -> Any:
        """`select()` (the records a list request matches, in served order; or an index of them), computed
        once per request and kept for its next pages. A real API pages through an index; a fake filtering and
        sorting every record again for each page (or scanning them for one id) made a peak-season bench measure
        the fake: pages x records. Keyed by the request (without its cursor), the record list and its length:
        records appended to the list are seen."""
        key = (request, id(records), len(records))
        with self._lock:
            kept = self._listings.get(key)
            if kept is not None and kept[0] is records:
                self._listings.move_to_end(key)
                return kept[1]
        selected = select()
        with self._lock:
            # the entry holds the list itself: while it is kept, its id cannot name another list
            self._listings[key] = (records, selected)
            while len(self._listings) > self.LISTINGS_KEPT:
                self._listings.popitem(last=False)
        return selected

    # ---- what a fake implements -----------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], headers,
               body: bytes = b"") -> tuple[int, Any, dict[str, str]]:
        """Answer one request: (status, body, extra headers). `body` is the raw request body; the answer's
        body is JSON-serialisable, or bytes sent as they are (with the Content-Type from the headers)."""
        raise NotImplementedError

    def log_request(self, method: str, path: str, query: dict[str, str], status: int, headers) -> None:
        raise NotImplementedError

    def internal_error_body(self, error: Exception) -> Any:
        return {"errors": f"Internal Server Error ({type(error).__name__})"}

    @staticmethod
    def json_default(value):
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    # ---- lifecycle ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        if self._thread is None:
            # A short poll interval keeps stop() quick (tests start and stop many servers).
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                            name=type(self).__name__, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
