"""The Selling Partner API client: LWA access tokens, NextToken paging, retries, report downloads.

    client = SellingPartnerClient(client_id, client_secret, refresh_token)   # Amazon NA production
    client = SellingPartnerClient(..., base_url=fake.base_url, token_url=fake.base_url + "/auth/o2/token")
    for page in client.search_orders_pages(last_updated_after=..., last_updated_before=...):
        page.records       # the `orders` of searchOrders (Orders API 2026-01-01), each with its orderItems
        page.next_token    # pagination.nextToken, or None on the last page
    client.search_orders_pages(..., pagination_token=saved)  # carry on from a saved token, same bounds
    client.reports(report_types=[SETTLEMENT_REPORT_TYPE], created_since=..., created_until=...)
    client.get_report(report_id); client.get_report_document(document_id)
    client.download_report_document(document)             # bytes, gunzipped when compressionAlgorithm=GZIP

Every call carries a Login-with-Amazon access token in `x-amz-access-token` (connectors.amazon.lwa),
cached until shortly before it expires; a 401/403 refreshes it once and repeats the call. Amazon
throttles per operation with 429 and often no Retry-After: get_with_retries backs off exponentially
then. The report document URL is a pre-signed S3 URL on another host: it is fetched by a separate
session that never carries the access token. Credentials never appear in logs, reprs or errors.
"""
from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

import requests

from connectors.amazon.lwa import DEFAULT_TOKEN_URL, LoginWithAmazon
from connectors.amazon.models import SETTLEMENT_REPORT_TYPE
from connectors.http_retry import RetriesExhausted, VendorAPIError, get_with_retries, is_retryable, path_of

DEFAULT_BASE_URL = "https://sellingpartnerapi-na.amazon.com"
US_MARKETPLACE_ID = "ATVPDKIKX0DER"  # Amazon.com
TOKEN_HEADER = "x-amz-access-token"
BODY_EXCERPT_CHARS = 300
MAX_ORDERS_PER_PAGE = 100
ORDERS_PATH = "/orders/2026-01-01/orders"
# What an order needs beyond its items (always included): statuses, amounts, the buyer's relay address, the region.
INCLUDED_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "PROMOTION", "FULFILLMENT")
MAX_REPORTS_PER_PAGE = 100


class SellingPartnerAPIError(VendorAPIError):
    """An SP-API request that failed for good: status (None if no response), path, Amazon's error code."""


@dataclass(frozen=True)
class Page:
    records: list[dict]  # Orders, or Reports
    url: str
    next_token: str | None


def iso_utc(moment: datetime) -> str:
    """An aware datetime as SP-API wants it: ISO 8601 in UTC with Z, whole seconds."""
    if moment.tzinfo is None:
        raise ValueError("pass aware datetimes as SP-API time bounds")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SellingPartnerClient:
    def __init__(self, client_id: str, client_secret: str, refresh_token: str, *,
                 base_url: str = DEFAULT_BASE_URL, token_url: str = DEFAULT_TOKEN_URL,
                 marketplace_id: str = US_MARKETPLACE_ID, max_retries: int = 6, backoff_seconds: float = 1.0,
                 timeout: float = 30, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.base_url = base_url.strip().rstrip("/")
        self.marketplace_id = marketplace_id
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout
        self._session = session or requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": "omnirecon/1.0 (Language=Python)"})
        self._downloads = requests.Session()  # pre-signed URLs: no SP-API credentials on this session, ever
        self.lwa = LoginWithAmazon(client_id, client_secret, refresh_token, token_url=token_url,
                                   timeout=timeout, max_retries=max_retries, backoff_seconds=backoff_seconds,
                                   clock=clock)

    def __repr__(self) -> str:
        return f"SellingPartnerClient({self.base_url!r}, marketplace_id={self.marketplace_id!r})"

    # ---- Orders 2026-01-01 ----------------------------------------------------------------
    def search_orders_pages(self, *, last_updated_after: datetime, last_updated_before: datetime | None = None,
                            included_data: tuple[str, ...] = INCLUDED_DATA, pagination_token: str | None = None,
                            max_per_page: int = MAX_ORDERS_PER_PAGE) -> Iterator[Page]:
        """Every page of searchOrders for orders last updated in [after, before] (both inclusive at Amazon),
        each order with its items. From a saved token, pass the same bounds: Amazon wants every filter
        repeated beside paginationToken."""
        params = {"marketplaceIds": self.marketplace_id, "lastUpdatedAfter": iso_utc(last_updated_after),
                  "maxResultsPerPage": min(max_per_page, MAX_ORDERS_PER_PAGE), "includedData": ",".join(included_data)}
        if last_updated_before is not None:
            params["lastUpdatedBefore"] = iso_utc(last_updated_before)
        token = pagination_token
        while True:
            response = self._get(ORDERS_PATH, {**params, "paginationToken": token} if token else params)
            body = self._json(response)
            if not isinstance(body, dict) or not isinstance(body.get("orders"), list):
                raise SellingPartnerAPIError("searchOrders answered without an orders list",
                                             status=response.status_code, path=path_of(response.url),
                                             body=self._excerpt(response.text))
            token = (body.get("pagination") or {}).get("nextToken") or None
            yield Page(body["orders"], response.url, token)
            if not token:
                return

    # ---- Reports 2021-06-30 ---------------------------------------------------------------
    def reports_pages(self, *, report_types: list[str] | tuple[str, ...] = (SETTLEMENT_REPORT_TYPE,),
                      created_since: datetime | None = None, created_until: datetime | None = None,
                      processing_statuses: list[str] | tuple[str, ...] | None = None,
                      page_size: int = MAX_REPORTS_PER_PAGE, next_token: str | None = None) -> Iterator[Page]:
        """Every page of getReports (newest first). Settlement reports cannot be requested: Amazon
        schedules them, so they are listed by type and creation window."""
        if next_token:
            params: dict = {"nextToken": next_token}
        else:
            params = {"reportTypes": ",".join(report_types), "pageSize": min(page_size, MAX_REPORTS_PER_PAGE)}
            if created_since is not None:
                params["createdSince"] = iso_utc(created_since)
            if created_until is not None:
                params["createdUntil"] = iso_utc(created_until)
            if processing_statuses:
                params["processingStatuses"] = ",".join(processing_statuses)
        while True:
            response = self._get("/reports/2021-06-30/reports", params)
            body = self._json(response)
            if not isinstance(body, dict) or not isinstance(body.get("reports"), list):
                raise SellingPartnerAPIError("getReports answered without a reports list", status=response.status_code,
                                             path=path_of(response.url), body=self._excerpt(response.text))
            token = body.get("nextToken") or None
            yield Page(body["reports"], response.url, token)
            if not token:
                return
            params = {"nextToken": token}  # Amazon refuses other parameters next to nextToken

    def reports(self, **filters) -> list[dict]:
        return [report for page in self.reports_pages(**filters) for report in page.records]

    def get_report(self, report_id: str) -> dict:
        return self._json(self._get(f"/reports/2021-06-30/reports/{quote(report_id, safe='')}", {}))

    def get_report_document(self, report_document_id: str) -> dict:
        return self._json(self._get(f"/reports/2021-06-30/documents/{quote(report_document_id, safe='')}", {}))

    def download_report_document(self, document: dict) -> bytes:
        """The document's content, decompressed when Amazon says it is (compressionAlgorithm GZIP)."""
        url = document["url"]
        try:
            response = get_with_retries(self._downloads, url, None, vendor="Amazon S3", timeout=self.timeout,
                                        max_retries=self.max_retries, backoff_seconds=self.backoff_seconds)
        except RetriesExhausted as error:
            raise SellingPartnerAPIError(str(error), status=None, path="report document") from None
        if response.status_code != 200:
            # The pre-signed URL's query is a signature: name the document, not the URL.
            raise SellingPartnerAPIError(
                f"downloading report document {document.get('reportDocumentId')} answered {response.status_code} "
                "(pre-signed URLs expire after 5 minutes: get the document again)",
                status=response.status_code, path="report document", body=response.text[:BODY_EXCERPT_CHARS])
        content = response.content
        algorithm = (document.get("compressionAlgorithm") or "").upper()
        if algorithm == "GZIP":
            try:
                return gzip.decompress(content)
            except (OSError, EOFError, zlib.error) as error:
                raise SellingPartnerAPIError(f"report document {document.get('reportDocumentId')} is not valid "
                                             f"GZIP ({error})", status=200, path="report document") from None
        if algorithm:
            raise SellingPartnerAPIError(f"unknown compressionAlgorithm {algorithm!r}", status=200,
                                         path="report document")
        return content

    # ---- one request, authorised and retried ----------------------------------------------
    def _get(self, path: str, params: dict) -> requests.Response:
        url = f"{self.base_url}{path}"
        for attempt in ("first", "after refresh"):
            self._session.headers[TOKEN_HEADER] = self.lwa.access_token()
            try:
                response = get_with_retries(self._session, url, params or None, vendor="SP-API", timeout=self.timeout,
                                            max_retries=self.max_retries, backoff_seconds=self.backoff_seconds)
            except RetriesExhausted as error:
                raise SellingPartnerAPIError(str(error), status=None, path=path) from None
            if response.status_code in (401, 403) and attempt == "first":
                self.lwa.invalidate()  # expired or revoked early: one fresh token, one more try
                continue
            break
        status = response.status_code
        if status < 300:
            return response
        body = self._excerpt(response.text)
        code = _error_code(response)
        shown = path_of(response.url or url)
        if status < 400:
            raise SellingPartnerAPIError(f"SP-API redirected GET {shown} ({status}); redirects are not followed",
                                         status=status, path=shown, code=code)
        if status in (401, 403):
            raise SellingPartnerAPIError(f"SP-API refused the access token ({status} {code}) for GET {shown} even "
                                         f"after a fresh one: check the app's roles and authorisation: {body}",
                                         status=status, path=shown, body=body, code=code)
        if not is_retryable(status):
            raise SellingPartnerAPIError(f"SP-API answered {status} {code} for GET {shown}: {body}", status=status,
                                         path=shown, body=body, code=code)
        raise SellingPartnerAPIError(f"GET {shown} still failing after {self.max_retries} retries (HTTP {status}): "
                                     f"{body}", status=status, path=shown, body=body, code=code)

    def _json(self, response: requests.Response):
        try:
            return response.json()
        except ValueError:
            raise SellingPartnerAPIError("SP-API answered with a body that is not JSON", status=response.status_code,
                                         path=path_of(response.url), body=self._excerpt(response.text)) from None

    def _excerpt(self, text: str) -> str:
        return self.lwa.redact(text)[:BODY_EXCERPT_CHARS]


def _error_code(response: requests.Response) -> str | None:
    try:
        errors = response.json().get("errors")
        return errors[0].get("code") if errors else None
    except (ValueError, AttributeError, IndexError, TypeError):
        return None
