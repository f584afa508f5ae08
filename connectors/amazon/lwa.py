"""Login with Amazon (LWA): trade the seller's refresh token for short-lived SP-API access tokens.

    lwa = LoginWithAmazon(client_id, client_secret, refresh_token)   # token_url defaults to Amazon's
    lwa.access_token()   # cached; fetched again shortly before it expires (expires_in is 3600 s)
    lwa.invalidate()     # after a 401/403: the next access_token() asks LWA again

The exchange is POST https://api.amazon.com/auth/o2/token with a form body (grant_type=refresh_token,
refresh_token, client_id, client_secret) answering {"access_token": "Atza|...", "expires_in": 3600}.
A refused refresh token answers 400 {"error": "invalid_grant"}, a wrong app 401 {"error":
"invalid_client"}: both raise LwaError at once (retrying cannot help); 429/5xx and broken
connections are retried with backoff. The client secret, the refresh token and the access token
never appear in a repr, a log line or an error message.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests

from connectors.http_retry import RetriesExhausted, send_with_retries

DEFAULT_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
# Refresh this long before LWA's stated expiry: a token must not lapse between the check and the call.
EXPIRY_MARGIN_SECONDS = 60.0


class LwaError(Exception):
    """The token exchange failed for good: status (None if no response) and LWA's error code."""

    def __init__(self, message: str, *, status: int | None, error: str | None = None):
        super().__init__(message)
        self.status = status
        self.error = error


class LoginWithAmazon:
    def __init__(self, client_id: str, client_secret: str, refresh_token: str, *,
                 token_url: str = DEFAULT_TOKEN_URL, session: requests.Session | None = None, timeout: float = 30,
                 max_retries: int = 4, backoff_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic):
        if not (client_id and client_secret and refresh_token):
            raise ValueError("Login with Amazon needs a client id, a client secret and a refresh token")
        self.client_id = client_id
        self.token_url = token_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._session = session or requests.Session()
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.exchanges = 0  # how many tokens were fetched (for tests and metrics)

    def __repr__(self) -> str:
        return f"LoginWithAmazon(client_id={self.client_id!r}, token_url={self.token_url!r})"

    def access_token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - EXPIRY_MARGIN_SECONDS:
                self._token, lifetime = self._exchange()
                self._expires_at = self._clock() + lifetime
                self.exchanges += 1
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def redact(self, text: str) -> str:
        """Text with every secret this object knows replaced (for error messages and body excerpts)."""
        for secret in (self._client_secret, self._refresh_token, self._token):
            if secret:
                text = text.replace(secret, "[redacted]")
        return text

    def _exchange(self) -> tuple[str, float]:
        form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token,
                "client_id": self.client_id, "client_secret": self._client_secret}
        try:
            response = send_with_retries(self._session, "POST", self.token_url, vendor="Login with Amazon",
                                         timeout=self.timeout, max_retries=self.max_retries,
                                         backoff_seconds=self.backoff_seconds, data=form,
                                         headers={"Accept": "application/json"})
        except RetriesExhausted as error:
            raise LwaError(f"Login with Amazon unreachable: {error}", status=None) from None
        if response.status_code != 200:
            raise self._refusal(response)
        return self._token_of(response)

    def _token_of(self, response: requests.Response) -> tuple[str, float]:
        try:
            body = response.json()
            token, lifetime = body["access_token"], float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise LwaError("Login with Amazon answered 200 without an access_token", status=200) from None
        if not isinstance(token, str) or not token:
            raise LwaError("Login with Amazon answered 200 with an empty access_token", status=200)
        return token, lifetime

    def _refusal(self, response: requests.Response) -> LwaError:
        try:
            body = response.json()
            error, description = body.get("error"), body.get("error_description", "")
        except (ValueError, AttributeError):
            error, description = None, response.text[:200]
        hint = {"invalid_grant": "the refresh token was refused (revoked, expired or for another app): "
                                 "re-authorise the app in Seller Central",
                "invalid_client": "the client id / client secret were refused"}.get(error or "", "")
        message = f"Login with Amazon refused the token exchange ({response.status_code} {error or 'error'})"
        message += f": {hint}" if hint else ""
        message += f" [{self.redact(str(description))[:200]}]" if description else ""
        return LwaError(message, status=response.status_code, error=error)
