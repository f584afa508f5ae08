"""The fake shop's GraphQL bulk operations: a whole window of orders with their transactions in one file.

Shopify serves transactions per order over REST (one request per order under a 20-a-second limit: a
million orders is 14 hours). A GraphQL bulk operation is Shopify's way to read that much: the app
starts one with `bulkOperationRunQuery`, polls it (`node(id:)`) until COMPLETED, then downloads a
JSONL file from the signed URL the operation names, without the access token.

What the fake serves, as Shopify does where a connector can tell:
- POST graphql.json `mutation ... bulkOperationRunQuery(query: $query)`: the bulk query comes in the
  `query` variable; the fake runs orders filtered by `updated_at:>='...'` / `updated_at:<='...'` in the
  search string, with each order's `transactions` (a list field: inline in the order's line). Any
  other bulk query gets a userError. One operation at a time: a second one while the first still
  runs gets Shopify's "already in progress" userError.
- POST graphql.json `query ... node(id: $id) { ... on BulkOperation }`: status CREATED/RUNNING until
  `seconds_to_complete` has passed, then COMPLETED with `url`, `objectCount` and `fileSize`.
- GET the url (`/bulk-results/<n>.jsonl?signature=...`): the JSONL, one order a line, ordered by
  (updated_at, id); 403 without the right signature. Stricter than a storage bucket: a download that
  carries the shop's access token is refused (400), so a client leaking it fails its tests.
The selection set is not interpreted: every order line holds the fields the connector asks for.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

OPERATION_GID = "gid://shopify/BulkOperation/{}"
RESULTS_PATH = re.compile(r"/bulk-results/(\d+)\.jsonl")
_UPDATED_AT = re.compile(r"updated_at:(>=|<=)'([^']+)'")
ALREADY_RUNNING = "A bulk query operation for this app and shop is already in progress: {}."


@dataclass
class _Operation:
    number: int
    created: float
    jsonl: bytes
    object_count: int

    @property
    def gid(self) -> str:
        return OPERATION_GID.format(self.number)


def _utc(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _gid(kind: str, number: int | None) -> str | None:
    return None if number is None else f"gid://shopify/{kind}/{number}"


def graphql_transaction(txn: dict) -> dict:
    """A REST transaction as the Admin GraphQL API renders an OrderTransaction (enums upper case, UTC times)."""
    return {
        "id": _gid("OrderTransaction", txn["id"]), "kind": txn["kind"].upper(), "status": txn["status"].upper(),
        "gateway": txn.get("gateway"),
        "amountSet": {"shopMoney": {"amount": txn["amount"], "currencyCode": txn["currency"]}},
        "createdAt": _utc(txn["created_at"]),
        "processedAt": _utc(txn["processed_at"]) if txn.get("processed_at") else None,
        "parentTransaction": {"id": _gid("OrderTransaction", txn["parent_id"])} if txn.get("parent_id") else None,
        "authorizationCode": txn.get("authorization"),
    }


class FakeBulkOperations:
    def __init__(self, store, *, seconds_to_complete: float = 0.05):
        self.store = store
        self.seconds_to_complete = seconds_to_complete
        self._operations: dict[int, _Operation] = {}
        self._lock = threading.Lock()

    def graphql(self, body: bytes, base_url: str) -> tuple[int, Any]:
        try:
            request = json.loads(body or b"{}")
            text, variables = request["query"], request.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return 400, {"errors": [{"message": "the body must be JSON with a query"}]}
        if "bulkOperationRunQuery" in text:
            return 200, {"data": {"bulkOperationRunQuery": self._run(str(variables.get("query", "")))}}
        if "node(" in text:
            return 200, {"data": {"node": self._node(str(variables.get("id", "")), base_url)}}
        return 200, {"errors": [{"message": "the sandbox shop answers bulkOperationRunQuery and node(id:) only"}]}

    @property
    def started(self) -> int:
        """How many bulk operations were started."""
        with self._lock:
            return len(self._operations)

    def results(self, number: int, signature: str | None, token_sent: bool) -> tuple[int, Any, dict[str, str]]:
        if token_sent:
            return 400, b"<Error><Code>InvalidArgument</Code><Message>unexpected credentials</Message></Error>", \
                {"Content-Type": "application/xml"}
        with self._lock:
            operation = self._operations.get(number)
        if operation is None or signature != self._signature(number):
            return 403, b"<Error><Code>AccessDenied</Code></Error>", {"Content-Type": "application/xml"}
        return 200, operation.jsonl, {"Content-Type": "application/jsonl"}

    def _run(self, query: str) -> dict:
        if "orders" not in query or "transactions" not in query:
            return {"bulkOperation": None,
                    "userErrors": [{"field": ["query"], "message": "the sandbox runs bulk queries of orders with "
                                                                   "their transactions only"}]}
        with self._lock:
            running = next((op for op in self._operations.values() if not self._completed(op)), None)
            if running is not None:
                return {"bulkOperation": None,
                        "userErrors": [{"field": None, "message": ALREADY_RUNNING.format(running.gid)}]}
            bounds = dict(_UPDATED_AT.findall(query))
            lines = self._order_lines(bounds.get(">="), bounds.get("<="))
            operation = _Operation(len(self._operations) + 1, time.monotonic(),
                                   b"".join(json.dumps(line, separators=(",", ":")).encode() + b"\n" for line in lines),
                                   len(lines))
            self._operations[operation.number] = operation
        return {"bulkOperation": {"id": operation.gid, "status": "CREATED"}, "userErrors": []}

    def _order_lines(self, earliest: str | None, latest: str | None) -> list[dict]:
        low = datetime.fromisoformat(earliest) if earliest else None
        high = datetime.fromisoformat(latest) if latest else None
        chosen = []
        for order in self.store.orders:
            updated = datetime.fromisoformat(order["updated_at"])
            if (low is None or updated >= low) and (high is None or updated <= high):
                chosen.append((updated, order["id"]))
        return [{"id": _gid("Order", order_id),
                 "transactions": [graphql_transaction(t) for t in self.store.transactions.get(order_id, [])]}
                for _, order_id in sorted(chosen)]

    def _node(self, gid: str, base_url: str) -> dict | None:
        found = re.fullmatch(r"gid://shopify/BulkOperation/(\d+)", gid)
        with self._lock:
            operation = self._operations.get(int(found.group(1))) if found else None
        if operation is None:
            return None
        if not self._completed(operation):
            return {"id": operation.gid, "status": "RUNNING", "errorCode": None, "objectCount": "0",
                    "fileSize": None, "url": None}
        return {"id": operation.gid, "status": "COMPLETED", "errorCode": None,
                "objectCount": str(operation.object_count), "fileSize": str(len(operation.jsonl)),
                "url": f"{base_url}/bulk-results/{operation.number}.jsonl"
                       f"?signature={self._signature(operation.number)}"}

    def _completed(self, operation: _Operation) -> bool:
        return time.monotonic() - operation.created >= self.seconds_to_complete

    def _signature(self, number: int) -> str:
        # Stands in for the storage bucket's signed URL: only the URL the operation named opens the file.
        return hashlib.sha256(f"{id(self)}/{number}".encode()).hexdigest()[:32]
