"""Shopify GraphQL bulk operations: read a whole window of orders' transactions as one JSONL file.

    operation_id = start_bulk_query(client, order_transactions_query(start, end))
    operation = wait_for(client, operation_id)           # polls until COMPLETED (raises if it failed)
    for line in result_lines(operation.url):             # one order a line
        line["id"], line["transactions"]

Shopify lists transactions per order only over REST: one request per order, at most 20 a second on
Shopify Plus (a million orders is 14 hours). A bulk operation runs the query on Shopify's side and
hands back a signed URL to a JSONL file. That URL is a storage bucket's, not the shop's: it is
fetched without the access token. The file stays downloadable for a week, so a pull that dies while
landing it resumes by polling the same operation again (`operation_status`), not by starting anew.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import requests

from connectors.http_retry import RetriesExhausted, send_with_retries
from connectors.shopify.client import ShopifyAdminClient, ShopifyAPIError

RUN_QUERY = """mutation RunBulkQuery($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message } }
}"""
OPERATION_STATUS = """query BulkOperationStatus($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode objectCount fileSize url } }
}"""
# Transactions are a list field of Order, not a connection: each order's come inline in its own line.
ORDER_TRANSACTIONS = """{
  orders(query: "updated_at:>='%s' AND updated_at:<='%s'") {
    edges { node { id transactions {
      id kind status gateway amountSet { shopMoney { amount currencyCode } }
      createdAt processedAt parentTransaction { id } authorizationCode
    } } }
  }
}"""
FINISHED_BADLY = ("FAILED", "CANCELED", "CANCELLED", "EXPIRED")


class BulkOperationGone(ShopifyAPIError):
    """Shopify no longer knows the operation (its results expire after a week)."""


@dataclass(frozen=True)
class BulkOperation:
    id: str
    status: str
    url: str | None = None
    object_count: int = 0


def order_transactions_query(earliest: datetime, latest: datetime) -> str:
    """The bulk query of the orders updated between two instants (both included), with their transactions."""
    return ORDER_TRANSACTIONS % (earliest.isoformat(), latest.isoformat())


def start_bulk_query(client: ShopifyAdminClient, query: str) -> str:
    """Start a bulk query: its operation's id. Raises ShopifyAPIError if Shopify refuses it (one runs already)."""
    started = client.graphql(RUN_QUERY, {"query": query})["bulkOperationRunQuery"]
    if started.get("userErrors") or not started.get("bulkOperation"):
        messages = "; ".join(error["message"] for error in started.get("userErrors") or []) or "no operation"
        raise ShopifyAPIError(f"Shopify refused the bulk query: {messages}", status=200, path="graphql.json")
    return started["bulkOperation"]["id"]


def wait_for(client: ShopifyAdminClient, operation_id: str, *, poll_seconds: float = 0.2,
             max_poll_seconds: float = 10.0, timeout_seconds: float = 3600.0) -> BulkOperation:
    """Poll an operation until it completes (backing off up to max_poll_seconds between polls)."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        operation = operation_status(client, operation_id)
        if operation.status == "COMPLETED":
            return operation
        if operation.status in FINISHED_BADLY:
            raise ShopifyAPIError(f"Shopify bulk operation {operation_id} ended {operation.status}",
                                  status=200, path="graphql.json", code=operation.status)
        if time.monotonic() > deadline:
            raise ShopifyAPIError(f"Shopify bulk operation {operation_id} still {operation.status} after "
                                  f"{timeout_seconds:.0f} s", status=200, path="graphql.json")
        time.sleep(poll_seconds)
        poll_seconds = min(poll_seconds * 2, max_poll_seconds)


def operation_status(client: ShopifyAdminClient, operation_id: str) -> BulkOperation:
    node = client.graphql(OPERATION_STATUS, {"id": operation_id})["node"]
    if node is None:
        raise BulkOperationGone(f"Shopify knows no bulk operation {operation_id}", status=200, path="graphql.json")
    if node.get("errorCode"):
        raise ShopifyAPIError(f"Shopify bulk operation {operation_id} failed: {node['errorCode']}",
                              status=200, path="graphql.json", code=node["errorCode"])
    return BulkOperation(node["id"], node["status"], node.get("url"), int(node.get("objectCount") or 0))


def result_lines(url: str | None, *, timeout: float = 300, max_retries: int = 6,
                 backoff_seconds: float = 0.5) -> Iterator[dict]:
    """The operation's JSONL file, a decoded line at a time (an operation that found nothing has no file)."""
    if url is None:
        return
    # A plain session: the signed URL needs no credentials, and the shop's token must not travel there.
    with requests.Session() as session:
        try:
            response = send_with_retries(session, "GET", url, vendor="Shopify bulk results", timeout=timeout,
                                         max_retries=max_retries, backoff_seconds=backoff_seconds, stream=True)
        except RetriesExhausted as error:
            raise ShopifyAPIError(str(error), status=None, path="bulk operation results") from None
        with response:
            if response.status_code != 200:
                # The signed URL itself is a credential: errors name neither it nor its query.
                raise ShopifyAPIError(f"downloading the bulk operation's results answered {response.status_code}",
                                      status=response.status_code, path="bulk operation results")
            for line in response.iter_lines():
                if line:
                    yield json.loads(line)
