"""A fake ERP REST API on loopback, serving the sandbox ERP's reference data and taking journal batches.

Contract: connectors/erp/client.py. Served under /api/v1 (OData flavour):
- GET /api/v1/{items,legal-entities,locations,gl-accounts}?$top=&$skip=: `{"@odata.context", "value",
  "@odata.nextLink"}` (nextLink while more records follow; $top 1..1000, default 100; a bad value
  or an unknown `$` option is a 400);
- POST /api/v1/journal-batches with `Idempotency-Key`: 201 and the posted batch (journal number,
  totals) the first time; the same key with the same batch answers 200 with the very same body;
  the same key with another batch 409; a key that is not the batch id, a missing key or a
  malformed body 400; an unbalanced batch or an unknown account code 422 (nothing is stored);
- `Authorization: Bearer <token>`: missing or wrong 401, a token in `read_only_tokens` can read
  but gets 403 on POST; errors are `{"error": {"code", "message"}}` and never echo the token;
- `fail_next(n, status=500, retry_after=None, after=0)` for outages and 429 + Retry-After.

    with FakeErpAPI(erp_sandbox_or_world, "erp_token") as api:
        ErpClient(api.base_url + "/api/v1", "erp_token").list_all("items")
    api.posted      # batch id -> stored answer body (also sandbox.journal_batches)
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, NamedTuple

from pydantic import ValidationError

from connectors.erp.models import JournalBatch
from connectors.sandbox.channels.erp import ErpSandbox, reference_data
from connectors.sandbox.loopback import FakeVendorAPI
from connectors.sandbox.world import World

PREFIX = "/api/v1"
DEFAULT_TOP, MAX_TOP = 100, 1000
COLLECTIONS = ("items", "legal-entities", "locations", "gl-accounts")


class LoggedErpRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    status: int
    idempotency_key: str | None


class _ErpError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(status, message)
        self.status = status
        self.headers = headers or {}
        self.body = {"error": {"code": code, "message": message}}


class FakeErpAPI(FakeVendorAPI):
    server_version = "FakeERP/1.0"

    def __init__(self, world_reference: ErpSandbox | World, api_token: str, *, host: str = "127.0.0.1",
                 port: int = 0, read_only_tokens: tuple[str, ...] = ()):
        super().__init__(host, port)
        # A World is turned into its reference data here without adding to the ground truth.
        self.sandbox = world_reference if isinstance(world_reference, ErpSandbox) else reference_data(world_reference)
        self._token = api_token
        self._read_only = set(read_only_tokens)
        self.request_log: list[LoggedErpRequest] = []
        self._failures: list[tuple[int, float | None] | None] = []
        self._requests: dict[str, str] = {}  # batch id -> canonical request body, for the 409 check

    def __repr__(self) -> str:
        return f"FakeErpAPI({self.base_url!r})"

    @property
    def posted(self) -> dict[str, dict]:
        return self.sandbox.journal_batches

    def fail_next(self, n: int, status: int = 500, *, retry_after: float | None = None, after: int = 0) -> None:
        with self._lock:
            self._failures.extend([None] * after + [(status, retry_after)] * n)

    # ---- FakeVendorAPI ----------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], headers,
               body: bytes = b"") -> tuple[int, Any, dict[str, str]]:
        try:
            status, answer = self._respond(method, path, query, headers, body)
            return status, answer, {"OData-Version": "4.0"}
        except _ErpError as error:
            return error.status, error.body, error.headers

    def log_request(self, method: str, path: str, query: dict[str, str], status: int, headers) -> None:
        with self._lock:
            self.request_log.append(LoggedErpRequest(method, path, query, status, headers.get("Idempotency-Key")))

    def internal_error_body(self, error: Exception) -> Any:
        return {"error": {"code": "InternalServerError", "message": type(error).__name__}}

    # ---- routing ----------------------------------------------------------------------------
    def _respond(self, method: str, path: str, query: dict[str, str], headers, body: bytes) -> tuple[int, Any]:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            status, retry_after = failure
            extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            code = "TooManyRequests" if status == 429 else "ServiceUnavailable"
            raise _ErpError(status, code, "injected failure", extra)
        token = self._authenticate(headers.get("Authorization"))
        if not path.startswith(PREFIX + "/"):
            raise _ErpError(404, "NotFound", f"no resource at {path}")
        resource = path[len(PREFIX) + 1:].rstrip("/")
        if method == "GET" and resource in COLLECTIONS:
            return 200, self._collection(resource, query)
        if method == "POST" and resource == "journal-batches":
            if token in self._read_only:
                raise _ErpError(403, "Forbidden", "this token may not post journals")
            return self._post_journal(headers.get("Idempotency-Key"), body)
        raise _ErpError(405 if resource in (*COLLECTIONS, "journal-batches") else 404,
                        "MethodNotAllowed" if resource in (*COLLECTIONS, "journal-batches") else "NotFound",
                        f"{method} {path} is not supported")

    def _authenticate(self, authorization: str | None) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _ErpError(401, "Unauthorized", "bearer token required")
        if token != self._token and token not in self._read_only:
            raise _ErpError(401, "Unauthorized", "the access token is invalid or has expired")
        return token

    def _collection(self, resource: str, query: dict[str, str]) -> dict:
        unknown = sorted(k for k in query if k not in ("$top", "$skip"))
        if unknown:
            raise _ErpError(400, "BadRequest", f"the query option {unknown[0]} is not supported")
        top, skip = query.get("$top", str(DEFAULT_TOP)), query.get("$skip", "0")
        if not top.isdigit() or not 1 <= int(top) <= MAX_TOP or not skip.isdigit():
            raise _ErpError(400, "BadRequest", f"$top must be 1..{MAX_TOP} and $skip a non-negative integer")
        top, skip = int(top), int(skip)
        records = self.sandbox.collection(resource)
        answer: dict = {"@odata.context": f"{self.base_url}{PREFIX}/$metadata#{resource}",
                        "value": records[skip:skip + top]}
        if skip + top < len(records):
            answer["@odata.nextLink"] = f"{self.base_url}{PREFIX}/{resource}?$top={top}&$skip={skip + top}"
        return answer

    def _post_journal(self, key: str | None, body: bytes) -> tuple[int, dict]:
        if not key:
            raise _ErpError(400, "IdempotencyKeyRequired", "journal batches are posted with an Idempotency-Key")
        try:
            raw = json.loads(body or b"null")
            batch = JournalBatch.model_validate(raw)
        except ValueError as error:  # ValidationError is a ValueError
            reason = error.errors()[0]["msg"] if isinstance(error, ValidationError) else "body is not JSON"
            status = 422 if "does not balance" in str(error) else 400
            raise _ErpError(status, "Unbalanced" if status == 422 else "BadRequest", reason) from None
        if key != batch.batch_id:
            raise _ErpError(400, "BadRequest", "the Idempotency-Key must be the batch id")
        canonical = json.dumps(batch.to_json(), sort_keys=True)
        with self._lock:
            if key in self.sandbox.journal_batches:
                if self._requests[key] != canonical:
                    raise _ErpError(409, "IdempotencyKeyReused", f"batch {key} was posted with other content")
                return 200, self.sandbox.journal_batches[key]
            known = {account["accountCode"] for account in self.sandbox.gl_accounts}
            unknown = sorted({line.account_code for line in batch.lines} - known)
            if unknown:
                raise _ErpError(422, "UnknownAccount", f"unknown account code {unknown[0]}")
            number = len(self.sandbox.journal_batches) + 1
            answer = {"batchId": batch.batch_id, "journalNumber": f"JB-{number:06d}", "status": "posted",
                      "legalEntityId": batch.legal_entity_id, "postingDate": batch.posting_date.isoformat(),
                      "currency": batch.currency, "lineCount": len(batch.lines),
                      "totalDebit": format(sum((line.debit for line in batch.lines), Decimal("0")), "f"),
                      "postedAt": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")}
            self.sandbox.journal_batches[key] = answer
            self._requests[key] = canonical
        return 201, answer
