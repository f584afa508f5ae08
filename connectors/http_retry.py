"""GET with retries, shared by every vendor API client.

Connection errors, 429 and 5xx are retried with exponential backoff; when the vendor says how
long to wait (Retry-After) that wait is used instead. What a final answer means (a rejected key,
a bad request, a redirect) is each client's business: this module only returns the last response,
or raises RetriesExhausted when no response ever came.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
# requests' own errors that mean "try again": the connection broke, not the request was wrong.
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError)


class VendorAPIError(Exception):
    """A vendor request that failed for good: the status (None if no response), the path (never the host or
    credentials), a body excerpt and the vendor's error code when it gave one. Each client subclasses it."""

    def __init__(self, message: str, *, status: int | None, path: str, body: str = "", code: str | None = None):
        super().__init__(message)
        self.status = status
        self.path = path
        self.body = body
        self.code = code


@dataclass(frozen=True)
class Page:
    """One page of a list: its records, the URL fetched (no credentials) and the next page's URL, if any."""
    records: list[dict]
    url: str
    next_url: str | None


class RetriesExhausted(Exception):
    """Every attempt failed without a response (connection refused, timeouts)."""


def path_of(url: str) -> str:
    """Path and query of a URL: what errors and logs name, never the host or the headers."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def retry_after(response: requests.Response, default: float) -> float:
    """Retry-After in seconds when the response has a usable one; the backoff otherwise."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return default
    return min(max(seconds, 0.0), MAX_BACKOFF_SECONDS) if seconds == seconds else default


def is_retryable(status: int) -> bool:
    return status == 429 or status >= 500


def get_with_retries(session: requests.Session, url: str, params: dict | None, *, vendor: str, timeout: float,
                     max_retries: int, backoff_seconds: float) -> requests.Response:
    """The first response that is not retryable, or the last one once retries run out."""
    return send_with_retries(session, "GET", url, vendor=vendor, timeout=timeout, max_retries=max_retries,
                             backoff_seconds=backoff_seconds, params=params)


def send_with_retries(session: requests.Session, method: str, url: str, *, vendor: str, timeout: float,
                      max_retries: int, backoff_seconds: float, **request) -> requests.Response:
    """Any request, retried like a GET: only for requests that are safe to repeat (a search sent as a POST,
    a POST the server dedupes by an idempotency key). `request` goes to requests (params, json, data, headers)."""
    path = path_of(url)
    for attempt in range(max_retries + 1):
        wait = min(MAX_BACKOFF_SECONDS, backoff_seconds * 2 ** attempt)
        try:
            # No automatic redirects: requests would carry the credential header to whatever host is named.
            response = session.request(method, url, timeout=timeout, allow_redirects=False, **request)
        except TRANSIENT_ERRORS as error:
            if attempt == max_retries:
                raise RetriesExhausted(f"{method} {path} still failing after {max_retries} retries "
                                       f"({type(error).__name__})") from None
            problem = type(error).__name__
        else:
            if not is_retryable(response.status_code) or attempt == max_retries:
                return response
            problem = f"HTTP {response.status_code}"
            wait = retry_after(response, default=wait)
        log.warning("%s %s %s: %s, retry %d/%d in %.2fs", vendor, method, path, problem, attempt + 1, max_retries,
                    wait)
        time.sleep(wait)
    raise AssertionError("unreachable")
