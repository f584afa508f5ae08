"""Shopify GraphQL bulk operations against the fake shop on loopback: real HTTP, no mocks.

A bulk operation replaces one REST request per order for the transactions: the rows it gives must be
the very rows REST's transactions give, the signed result URL must never see the access token, and
Shopify's refusals and failures must surface as clear errors.
"""
from __future__ import annotations

from datetime import datetime

import pytest
import requests

from connectors.landing_zone import LandingZone
from connectors.raw_load import load_landed_files
from connectors.sandbox.shopify_api import FakeShopifyAdminAPI
from connectors.shopify.bulk_operations import (BulkOperationGone, order_transactions_query, result_lines,
                                                start_bulk_query, wait_for)
from connectors.shopify.client import ShopifyAPIError
from connectors.shopify.raw_tables import flatten
from connectors.warehouse import connect
from tests.connectors.test_shopify_client import TOKEN, _client, _store

WINDOW = (datetime.fromisoformat("2026-11-02T09:00:00-05:00"), datetime.fromisoformat("2026-11-02T10:59:59-05:00"))


@pytest.fixture
def store():
    return _store()


@pytest.fixture
def api(store):
    with FakeShopifyAdminAPI(store, TOKEN, bucket_size=1000, retry_after_seconds=0.01) as running:
        yield running


def _run(api, query: str):
    client = _client(api)
    return wait_for(client, start_bulk_query(client, query), poll_seconds=0.01)


def test_a_window_of_orders_comes_with_transactions_that_load_as_the_rest_rows(api, store):
    operation = _run(api, order_transactions_query(*WINDOW))
    lines = list(result_lines(operation.url))

    in_window = sorted((datetime.fromisoformat(o["updated_at"]), o["id"]) for o in store.orders
                       if WINDOW[0] <= datetime.fromisoformat(o["updated_at"]) <= WINDOW[1])
    assert [line["id"] for line in lines] == [f"gid://shopify/Order/{order_id}" for _, order_id in in_window]
    assert operation.object_count == len(lines) == 16  # of the shop's 24 orders, those updated 09:00-10:59 New York
    bulk_rows = [row for line in lines for row in flatten("order_transactions", line)["transactions"]]
    rest_rows = [row for _, order_id in in_window for txn in store.transactions[order_id]
                 for row in flatten("transactions", txn)["transactions"]]
    assert bulk_rows == rest_rows and len(rest_rows) == 32
    assert {row["kind"] for row in bulk_rows} == {"authorization", "capture"}


def test_the_signed_result_url_is_fetched_without_the_token(api):
    operation = _run(api, order_transactions_query(*WINDOW))
    assert TOKEN not in operation.url
    # The fake refuses a download that carries the token, as a leak would: the connector's download passes.
    leaked = requests.get(operation.url, headers={"X-Shopify-Access-Token": TOKEN}, timeout=5)
    assert leaked.status_code == 400
    assert len(list(result_lines(operation.url))) == 16
    unsigned = operation.url.split("?")[0]
    with pytest.raises(ShopifyAPIError) as refused:
        list(result_lines(unsigned + "?signature=forged"))
    assert refused.value.status == 403 and "forged" not in str(refused.value)


def test_an_empty_window_completes_with_nothing_to_download(api):
    quiet = (datetime.fromisoformat("2026-11-20T00:00:00-05:00"), datetime.fromisoformat("2026-11-20T23:59:59-05:00"))
    operation = _run(api, order_transactions_query(*quiet))
    assert operation.object_count == 0 and list(result_lines(operation.url)) == []


def test_a_second_operation_while_one_runs_is_refused(api):
    api.bulk_operations.seconds_to_complete = 60
    client = _client(api)
    running = start_bulk_query(client, order_transactions_query(*WINDOW))
    with pytest.raises(ShopifyAPIError) as refused:
        start_bulk_query(client, order_transactions_query(*WINDOW))
    assert "already in progress" in str(refused.value) and running in str(refused.value)
    with pytest.raises(ShopifyAPIError) as waited:
        wait_for(client, running, poll_seconds=0.01, timeout_seconds=0.05)
    assert "still RUNNING" in str(waited.value)


def test_refusals_and_unknown_operations_are_clear_errors(api):
    client = _client(api)
    with pytest.raises(ShopifyAPIError) as refused:
        start_bulk_query(client, "{ products { edges { node { id } } } }")
    assert "orders with their transactions only" in str(refused.value)
    with pytest.raises(BulkOperationGone):
        wait_for(client, "gid://shopify/BulkOperation/999")
    with pytest.raises(ShopifyAPIError) as not_graphql:
        client.graphql("{ shop { name } }", {})
    assert "bulkOperationRunQuery" in str(not_graphql.value)


def test_graphql_requests_are_retried_through_an_outage(api):
    api.fail_next(2, status=503)
    operation = _run(api, order_transactions_query(*WINDOW))
    assert operation.status == "COMPLETED" and api.bulk_operations.started == 1


def test_a_bad_bulk_line_is_quarantined_with_its_reason_and_the_rest_loads(api, store, tmp_path):
    lines = list(result_lines(_run(api, order_transactions_query(*WINDOW)).url))
    bad = {"id": 5_200_000_001, "transactions": []}  # a REST id where GraphQL sends a gid
    landed = LandingZone(tmp_path / "landing").land("shopify", "order_transactions", "2026-11-02", [bad, *lines])
    with connect(str(tmp_path / "warehouse.duckdb")) as warehouse:
        report = load_landed_files(warehouse, [landed])
        quarantined = warehouse.fetchall("select stream, record_id, reason from raw_shopify._quarantine")
        loaded, = warehouse.fetchall("select count(*) from raw_shopify.transactions")[0]
    assert report.quarantined == 1 and len(quarantined) == 1
    stream, record_id, reason = quarantined[0]
    assert (stream, record_id) == ("order_transactions", "5200000001") and "not a Shopify global id" in reason
    assert loaded == sum(len(line["transactions"]) for line in lines) == 32
