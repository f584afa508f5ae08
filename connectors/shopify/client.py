"""The Shopify Admin REST client: authenticated GETs, retries, and Link-header cursor pagination.

    client = ShopifyAdminClient("https://acme.myshopify.com", token)          # or http://127.0.0.1:<port>
    for page in client.get_pages("orders.json", {"status": "any", "updated_at_min": ...}, "orders"):
        page.records      # raw payload dicts, exactly as Shopify sent them
        page.url          # the URL that was fetched
        page.next_url     # Link rel="next", or None on the last page
    client.resume_pages(saved_next_url, "orders")     # carry on from a saved next-page URL
    client.graphql(query, variables)                  # one Admin GraphQL request: its data (bulk_operations.py)

Paths are relative to /admin/api/<api_version>/. Transient failures (connection errors, 5xx, 429)
are retried with exponential backoff; a 429 waits its Retry-After instead. Anything else, or
running out of retries, raises ShopifyAPIError. The access token only ever travels in the
X-Shopify-Access-Token header to the configured shop: it is never logged, never part of an
error message or repr, pagination links are always re-rooted on the configured shop, and
redirects are not followed (a 3xx raises, naming where it pointed).
"""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import requests

from connectors.http_retry import Page, RetriesExhausted, VendorAPIError, is_retryable, path_of, send_with_retries

TOKEN_HEADER = "X-Shopify-Access-Token"
BODY_EXCERPT_CHARS = 300


class ShopifyAPIError(VendorAPIError):
    """A Shopify request that failed for good: the status (None if no response), path and body excerpt."""


def parse_link_header(value: str | None) -> dict[str, str]:
    """rel -> URL from an RFC 8288 Link header, e.g. `<https://...page_info=x>; rel="next"`.

    Tolerates any order of links, unquoted or upper-case rels, several rels in one value, other
    parameters, and commas inside URLs or quoted parameter values.
    """
    links: dict[str, str] = {}
    text, i = value or "", 0
    while (start := text.find("<", i)) != -1:
        end = text.find(">", start)
        if end == -1:
            break
        url, i = text[start + 1:end].strip(), end + 1
        params, i = _link_params(text, i)
        for rel in params.get("rel", "").split():  # rel="previous next" is legal
            links.setdefault(rel.lower(), url)
    return links


def _link_params(text: str, i: int) -> tuple[dict[str, str], int]:
    """The `; name=value` parameters of one link, up to the comma that ends it (quotes respected)."""
    params: dict[str, str] = {}
    chunk, quoted = [], False
    while i < len(text):
        char = text[i]
        if char == '"':
            quoted = not quoted
        elif not quoted and char in ";,":
            _add_param(params, "".join(chunk))
            chunk = []
            if char == ",":
                return params, i + 1
        else:
            chunk.append(char)
        i += 1
    _add_param(params, "".join(chunk))
    return params, i


def _add_param(params: dict[str, str], raw: str) -> None:
    name, _, val = raw.partition("=")
    if name.strip():
        params.setdefault(name.strip().lower(), val.strip())


class ShopifyAdminClient:
    def __init__(self, shop_url: str, access_token: str, *, api_version: str = "2026-07", max_retries: int = 6,
                 backoff_seconds: float = 0.5, timeout: float = 30, session: requests.Session | None = None):
        if not access_token:
            raise ValueError("a Shopify access token is required")
        shop_url = shop_url.strip().rstrip("/")
        if "://" not in shop_url:
            shop_url = f"https://{shop_url}"
        parts = urlsplit(shop_url)
        self.shop_url = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        self.api_version = api_version
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout
        # One keep-alive session; the token lives only in its headers.
        self._session = session or requests.Session()
        self._session.headers.update({TOKEN_HEADER: access_token, "Accept": "application/json"})

    def __repr__(self) -> str:
        return f"ShopifyAdminClient({self.shop_url!r}, api_version={self.api_version!r})"

    @property
    def admin_root(self) -> str:
        return f"{self.shop_url}/admin/api/{self.api_version}"

    def url_for(self, path: str) -> str:
        """A path relative to /admin/api/<version>/ (or a full /admin/... path) as a URL on this shop."""
        if path.startswith("/admin/"):
            return f"{self.shop_url}{path}"
        return f"{self.admin_root}/{path.lstrip('/')}"

    # ---- pagination -------------------------------------------------------------------------
    def get_pages(self, path: str, params: dict, key: str) -> Iterator[Page]:
        """Every page of a list request, first to last, following Link rel="next"."""
        return self._pages(self.url_for(path), dict(params), key)

    def resume_pages(self, next_url: str, key: str) -> Iterator[Page]:
        """The pages from a saved next-page URL on (its page_info carries the original filters)."""
        return self._pages(self._on_this_shop(next_url), None, key)

    def _pages(self, url: str, params: dict | None, key: str) -> Iterator[Page]:
        while url:
            response = self._get(url, params)
            payload = self._json(response, url)
            if key not in payload or not isinstance(payload[key], list):
                raise ShopifyAPIError(f"Shopify answered {self._path(url)} without a {key!r} list",
                                      status=response.status_code, path=self._path(url),
                                      body=self._excerpt(response.text))
            next_url = parse_link_header(response.headers.get("Link")).get("next")
            next_url = self._on_this_shop(next_url) if next_url else None
            yield Page(records=payload[key], url=response.url, next_url=next_url)
            url, params = next_url, None  # the next URL already holds everything (page_info + limit)

    def graphql(self, query: str, variables: dict) -> dict:
        """One Admin GraphQL request (graphql.json); its `data`. GraphQL reports errors in a 200: those raise."""
        url = self.url_for("graphql.json")
        payload = self._json(self._send("POST", url, json={"query": query, "variables": variables}), url)
        if payload.get("errors") or not isinstance(payload.get("data"), dict):
            messages = "; ".join(str(e.get("message", e)) for e in payload.get("errors") or []) or "no data"
            raise ShopifyAPIError(f"Shopify answered POST {self._path(url)} with errors: {self._excerpt(messages)}",
                                  status=200, path=self._path(url))
        return payload["data"]

    def _on_this_shop(self, url: str) -> str:
        # Pagination links are followed on the configured shop only: the token never goes elsewhere.
        parts = urlsplit(url)
        return urlunsplit((*urlsplit(self.shop_url)[:2], parts.path, parts.query, ""))

    # ---- one request, retried ---------------------------------------------------------------
    def _get(self, url: str, params: dict | None) -> requests.Response:
        return self._send("GET", url, params=params)

    def _send(self, method: str, url: str, **request) -> requests.Response:
        path = self._path(url)
        try:
            response = send_with_retries(self._session, method, url, vendor="Shopify", timeout=self.timeout,
                                         max_retries=self.max_retries, backoff_seconds=self.backoff_seconds, **request)
        except RetriesExhausted as error:
            raise ShopifyAPIError(str(error), status=None, path=path) from None
        status = response.status_code
        if status < 300:
            return response
        if status < 400:
            target = urlsplit(response.headers.get("Location", "")).netloc or "elsewhere"
            raise ShopifyAPIError(f"Shopify redirected {method} {path} to {target} ({status}): set the shop URL "
                                  "to the shop's myshopify.com address", status=status, path=path)
        body = self._excerpt(response.text)
        if status == 401:
            raise ShopifyAPIError(f"Shopify rejected the access token (401) for {method} {path}: {body}",
                                  status=status, path=path, body=body)
        if not is_retryable(status):
            raise ShopifyAPIError(f"Shopify answered {status} for {method} {path}: {body}", status=status, path=path,
                                  body=body)
        raise ShopifyAPIError(f"{method} {path} still failing after {self.max_retries} retries (HTTP {status}): {body}",
                              status=status, path=path, body=body)

    def _json(self, response: requests.Response, url: str):
        try:
            return response.json()
        except ValueError:
            raise ShopifyAPIError(f"Shopify answered {response.request.method} {self._path(url)} with a body that "
                                  "is not JSON",
                                  status=response.status_code, path=self._path(url),
                                  body=self._excerpt(response.text)) from None

    _path = staticmethod(path_of)

    def _excerpt(self, text: str) -> str:
        token = self._session.headers.get(TOKEN_HEADER)
        if token:
            text = text.replace(token, "[redacted]")
        return text[:BODY_EXCERPT_CHARS]
