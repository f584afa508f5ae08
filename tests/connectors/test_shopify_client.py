"""The Shopify connector against the fake Shopify Admin API on loopback: real HTTP, no mocks.

Covers Link-header pagination, the updated_at window, throttling (429 + Retry-After), auth
errors that never echo the token, retries, and the resumable extract (cursor kept between runs).
"""
from __future__ import annotations

import json
import logging
import socket
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.sandbox.shopify_api import FakeShopifyAdminAPI, ShopifyStore
from connectors.shopify.client import Page, ShopifyAdminClient, ShopifyAPIError, parse_link_header
from connectors.shopify.extract import CursorStore, extract_window, stream_key

TOKEN = "shpat_test_0123456789abcdef"
ADMIN = "/admin/api/2026-07"
ORDER_COUNT = 23


# ---- a small shop -----------------------------------------------------------------------------

def _order(n: int, updated_at: str, **extra) -> dict:
    order_id = 5_200_000_000 + n
    return {"id": order_id, "name": f"#{1000 + n}", "email": f"shopper{n}@example.com",
            "created_at": "2026-11-02T08:00:00-05:00", "updated_at": updated_at, "currency": "USD",
            "financial_status": "paid", "subtotal_price": "24.00", "total_tax": "2.13", "total_price": "26.13",
            "line_items": [{"id": 11_000_000_000 + n, "sku": "TEE-BLK-M", "quantity": 1, "price": "24.00"}],
            "shipping_lines": [], "refunds": [], **extra}


def _store() -> ShopifyStore:
    # Updated times alternate between New York and UTC offsets: the API must order by the instant.
    orders = []
    for n in range(ORDER_COUNT):
        minute = 10 + n * 7
        local = f"2026-11-02T{9 + minute // 60:02d}:{minute % 60:02d}:00-05:00"
        utc = f"2026-11-02T{14 + minute // 60:02d}:{minute % 60:02d}:00+00:00"
        orders.append(_order(n, utc if n % 2 else local))
    orders.reverse()  # stored out of order on purpose
    orders.append(_order(90, "2026-11-02T12:00:00-05:00", cancelled_at="2026-11-02T12:00:00-05:00"))
    transactions = {o["id"]: [
        {"id": 7_000_000_000 + 2 * i, "order_id": o["id"], "kind": "authorization", "status": "success",
         "amount": o["total_price"], "currency": "USD", "created_at": o["created_at"], "parent_id": None},
        {"id": 7_000_000_001 + 2 * i, "order_id": o["id"], "kind": "capture", "status": "success",
         "amount": o["total_price"], "currency": "USD", "created_at": o["created_at"],
         "parent_id": 7_000_000_000 + 2 * i},
    ] for i, o in enumerate(orders)}
    payouts = [{"id": 60_000_000 + d, "status": "paid", "date": f"2026-11-{d:02d}", "currency": "USD",
                "amount": f"{100 + d}.00"} for d in range(3, 9)]
    balance = [{"id": 8_000_000_000 + i, "type": "charge", "payout_id": 60_000_003 + i % 2, "payout_status": "paid",
                "currency": "USD", "amount": "26.13", "fee": "1.06", "net": "25.07", "source_type": "charge",
                "processed_at": f"2026-11-02T{10 + i:02d}:00:00-05:00"} for i in range(9)]
    return ShopifyStore(orders=orders, transactions=transactions, payouts=payouts, balance_transactions=balance)


def _instant(order: dict) -> tuple:
    return datetime.fromisoformat(order["updated_at"]), order["id"]


@pytest.fixture
def store() -> ShopifyStore:
    return _store()


@pytest.fixture
def api(store):
    with FakeShopifyAdminAPI(store, TOKEN, bucket_size=1000, retry_after_seconds=0.01) as running:
        yield running


def _client(api: FakeShopifyAdminAPI, token: str = TOKEN, **options) -> ShopifyAdminClient:
    options = {"backoff_seconds": 0.001, "max_retries": 3, "timeout": 5, **options}
    return ShopifyAdminClient(api.base_url, token, **options)


def _ids(pages) -> list[int]:
    return [record["id"] for page in pages for record in page.records]


def _open_orders_in_order(store: ShopifyStore) -> list[int]:
    return [o["id"] for o in sorted((o for o in store.orders if not o.get("cancelled_at")), key=_instant)]


# ---- pagination -------------------------------------------------------------------------------

def test_pages_follow_link_next_and_return_every_order_once_in_order(api, store):
    pages = list(_client(api).get_pages("orders.json", {"limit": 5}, "orders"))

    assert [len(p.records) for p in pages] == [5, 5, 5, 5, 3]
    assert _ids(pages) == _open_orders_in_order(store)  # by instant, then id; the cancelled order is not open
    assert [p.next_url for p in pages[:-1]] == [p.url for p in pages[1:]] and pages[-1].next_url is None
    first, *following = api.request_log
    assert first.path == f"{ADMIN}/orders.json" and first.query == {"limit": "5"}
    # Later pages carry only page_info and limit, as Shopify demands.
    assert all(set(r.query) == {"limit", "page_info"} for r in following)


def test_status_any_includes_cancelled_orders(api, store):
    ids = _ids(_client(api).get_pages("orders.json", {"status": "any", "limit": 250}, "orders"))
    assert len(ids) == len(store.orders) == len(set(ids))


def test_updated_at_window_is_inclusive_at_both_ends(api, store):
    ordered = sorted((o for o in store.orders if not o.get("cancelled_at")), key=_instant)
    low, high = ordered[4], ordered[15]
    # The bounds are the same instants as two orders, written in another offset than the orders use.
    elsewhere = timezone(timedelta(hours=2))
    bounds = {"updated_at_min": datetime.fromisoformat(low["updated_at"]).astimezone(elsewhere).isoformat(),
              "updated_at_max": datetime.fromisoformat(high["updated_at"]).astimezone(elsewhere).isoformat()}

    pages = list(_client(api).get_pages("orders.json", {**bounds, "limit": 4}, "orders"))

    assert _ids(pages) == [o["id"] for o in ordered[4:16]]


def test_page_info_with_other_filters_is_refused_without_retrying(api):
    client = _client(api)
    second_page = next(iter(client.get_pages("orders.json", {"limit": 5}, "orders"))).next_url
    page_info = parse_qs(urlsplit(second_page).query)["page_info"][0]
    api.request_log.clear()

    with pytest.raises(ShopifyAPIError) as refused:
        list(client.get_pages("orders.json", {"page_info": page_info, "status": "any"}, "orders"))

    assert refused.value.status == 400 and "page_info" in refused.value.body
    assert len(api.request_log) == 1


def test_middle_pages_link_back_with_rel_previous(api, store):
    client = _client(api)
    pages = list(client.get_pages("orders.json", {"limit": 5}, "orders"))
    response = requests.get(pages[2].url, headers={"X-Shopify-Access-Token": TOKEN}, timeout=5)

    links = parse_link_header(response.headers["Link"])
    assert set(links) == {"previous", "next"}
    previous = requests.get(links["previous"], headers={"X-Shopify-Access-Token": TOKEN}, timeout=5).json()
    assert [o["id"] for o in previous["orders"]] == [o["id"] for o in pages[1].records]


def test_payouts_in_a_date_range_newest_first(api):
    pages = list(_client(api).get_pages("shopify_payments/payouts.json",
                                        {"date_min": "2026-11-04", "date_max": "2026-11-07", "limit": 3}, "payouts"))
    assert [p["date"] for page in pages for p in page.records] == ["2026-11-07", "2026-11-06", "2026-11-05",
                                                                    "2026-11-04"]
    assert len(pages) == 2


def test_balance_transactions_of_one_payout(api, store):
    pages = list(_client(api).get_pages("shopify_payments/balance/transactions.json",
                                        {"payout_id": 60_000_004, "limit": 2}, "transactions"))
    expected = {b["id"] for b in store.balance_transactions if b["payout_id"] == 60_000_004}
    assert sorted(_ids(pages)) == sorted(expected) and len(_ids(pages)) == len(expected) == 4


def test_a_next_link_on_another_host_is_followed_on_the_configured_shop_only(api, store):
    # The token must never be sent to a host other than the shop, whatever a Link header says.
    real_next = next(iter(_client(api).get_pages("orders.json", {"limit": 5}, "orders"))).next_url
    foreign = real_next.replace(api.base_url, "https://attacker.example.com")

    pages = list(_client(api).resume_pages(foreign, "orders"))

    assert _ids(pages) == _open_orders_in_order(store)[5:]
    assert all(p.url.startswith(api.base_url) for p in pages)


@pytest.mark.parametrize("header, expected", [
    ('<https://s.myshopify.com/a?page_info=n>; rel="next"', {"next": "https://s.myshopify.com/a?page_info=n"}),
    ('<https://s/a?page_info=p>; rel="previous", <https://s/a?page_info=n>; rel="next"',
     {"previous": "https://s/a?page_info=p", "next": "https://s/a?page_info=n"}),
    ("<https://s/a?x=1,2>;rel=next", {"next": "https://s/a?x=1,2"}),
    ('<https://s/a>; title="page, two"; REL="Next"', {"next": "https://s/a"}),
    ("", {}),
    (None, {}),
])
def test_link_header_parsing(header, expected):
    assert parse_link_header(header) == expected


# ---- throttling and failures ------------------------------------------------------------------

def test_a_throttled_request_waits_retry_after_and_every_order_still_arrives(store):
    with FakeShopifyAdminAPI(store, TOKEN, bucket_size=3, leak_per_second=0.0001, retry_after_seconds=0.05) as api:
        # A backoff of 30 s would blow the time budget: passing fast proves Retry-After was used.
        client = _client(api, backoff_seconds=30, max_retries=4)
        started = time.monotonic()
        pages = list(client.get_pages("orders.json", {"limit": 5}, "orders"))
        elapsed = time.monotonic() - started

        statuses = [r.status for r in api.request_log]
        assert 429 in statuses and statuses[-1] == 200
        assert _ids(pages) == _open_orders_in_order(store)
        assert 0.05 <= elapsed < 5
        response = requests.get(f"{api.base_url}{ADMIN}/orders.json", headers={"X-Shopify-Access-Token": TOKEN},
                                timeout=5)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "0.05"
        assert response.headers["X-Shopify-Shop-Api-Call-Limit"] == "3/3"
        assert response.json() == {"errors": "Exceeded 2 calls per second for api client. "
                                             "Reduce request rates to resume uninterrupted service."}


def test_every_response_reports_the_call_limit(store):
    with FakeShopifyAdminAPI(store, TOKEN, bucket_size=40, leak_per_second=0.0001) as api:
        session = requests.Session()
        session.headers["X-Shopify-Access-Token"] = TOKEN
        used = [session.get(f"{api.base_url}{ADMIN}/{path}", timeout=5).headers["X-Shopify-Shop-Api-Call-Limit"]
                for path in ("orders.json", "shopify_payments/payouts.json", "no_such_thing.json")]
    assert used == ["1/40", "2/40", "3/40"]


def test_a_wrong_token_fails_at_once_with_a_clear_error_that_never_shows_it(api, caplog):
    wrong = "shpat_wrong_9f8e7d6c5b4a"
    client = _client(api, token=wrong)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ShopifyAPIError) as rejected:
        list(client.get_pages("orders.json", {}, "orders"))

    error = rejected.value
    assert error.status == 401 and "access token" in str(error)
    assert "Invalid API key or access token" in error.body
    assert len(api.request_log) == 1  # a 401 is not retried
    for text in (str(error), repr(error), error.body, repr(client), caplog.text):
        assert wrong not in text and TOKEN not in text


def test_server_errors_are_retried_then_succeed_without_logging_the_token(api, store, caplog):
    api.fail_next(2, status=503)
    with caplog.at_level(logging.WARNING, logger="connectors.shopify.client"):
        pages = list(_client(api).get_pages("orders.json", {"limit": 250}, "orders"))
    assert [r.status for r in api.request_log] == [503, 503, 200]
    assert _ids(pages) == _open_orders_in_order(store)
    assert "retry 2/3" in caplog.text and TOKEN not in caplog.text


def test_retries_run_out_into_a_shopify_api_error(api):
    api.fail_next(10)
    with pytest.raises(ShopifyAPIError) as failed:
        list(_client(api, max_retries=2).get_pages("orders.json", {}, "orders"))
    assert failed.value.status == 500 and failed.value.path == f"{ADMIN}/orders.json"
    assert "after 2 retries" in str(failed.value)
    assert len(api.request_log) == 3


def test_an_unreachable_shop_is_retried_then_reported():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ShopifyAdminClient(f"http://127.0.0.1:{port}", TOKEN, max_retries=2, backoff_seconds=0.001, timeout=2)
    with pytest.raises(ShopifyAPIError) as failed:
        list(client.get_pages("orders.json", {}, "orders"))
    assert failed.value.status is None and "ConnectionError" in str(failed.value)
    assert TOKEN not in str(failed.value)


# ---- resumable extract ------------------------------------------------------------------------

def _lander(landed: list):
    def on_page(page: Page, number: int) -> None:
        landed.append((number, [r["id"] for r in page.records]))
    return on_page


def test_a_run_that_dies_mid_way_resumes_from_the_saved_page(api, store, tmp_path):
    cursors = CursorStore(tmp_path / "state" / "cursors.json")
    key = stream_key("orders", "2026-11-02")
    client = _client(api, max_retries=2)
    landed: list = []
    land = _lander(landed)

    def land_then_outage(page: Page, number: int) -> None:
        land(page, number)
        if number == 2:
            api.fail_next(3)  # more failures than the client retries: page 3 cannot be fetched

    with pytest.raises(ShopifyAPIError):
        extract_window(client, key, "orders.json", {"limit": 5}, "orders", cursors, land_then_outage)
    saved = cursors.get(key)
    assert (saved.pages_done, saved.completed) == (2, False) and "page_info=" in saved.next_url

    before_restart = len(api.request_log)
    handed_over = extract_window(client, key, "orders.json", {"limit": 5}, "orders", cursors, land)

    restart = api.request_log[before_restart:]
    assert all("page_info" in r.query for r in restart)  # page 1 was not asked for again
    assert restart[0].query["page_info"] in saved.next_url
    assert handed_over == ORDER_COUNT - 10
    assert [number for number, _ in landed] == [1, 2, 3, 4, 5]
    landed_ids = [i for _, ids in landed for i in ids]
    assert landed_ids == _open_orders_in_order(store)  # every order exactly once, in order

    done = cursors.get(key)
    assert done.completed and done.next_url is None and done.pages_done == 5
    latest = max((o for o in store.orders if not o.get("cancelled_at")), key=_instant)
    assert done.high_water_mark == latest["updated_at"]


def test_a_completed_window_is_skipped_unless_forced(api, store, tmp_path):
    cursors = CursorStore(tmp_path / "cursors.json")
    key = stream_key("orders", "2026-11-02")
    client = _client(api)
    landed: list = []

    assert extract_window(client, key, "orders.json", {"limit": 10}, "orders", cursors, _lander(landed)) == ORDER_COUNT
    requests_after_first_run = len(api.request_log)
    assert extract_window(client, key, "orders.json", {"limit": 10}, "orders", cursors, _lander(landed)) == 0
    assert len(api.request_log) == requests_after_first_run

    assert extract_window(client, key, "orders.json", {"limit": 10}, "orders", cursors, _lander(landed),
                          force=True) == ORDER_COUNT
    assert [number for number, _ in landed] == [1, 2, 3, 1, 2, 3]
    assert "page_info" not in api.request_log[requests_after_first_run].query


def test_a_cursor_saved_for_other_filters_is_not_resumed(api, store, tmp_path):
    cursors = CursorStore(tmp_path / "cursors.json")
    key = stream_key("orders", "2026-11-02")
    client = _client(api)
    extract_window(client, key, "orders.json", {"limit": 10, "status": "open"}, "orders", cursors, lambda *_: None)

    landed: list = []
    handed_over = extract_window(client, key, "orders.json", {"limit": 10, "status": "any"}, "orders", cursors,
                                 _lander(landed))

    assert handed_over == len(store.orders)
    assert landed[0][0] == 1


def test_cursor_file_holds_one_entry_per_stream_key(api, tmp_path):
    path = tmp_path / "cursors.json"
    client = _client(api)
    extract_window(client, stream_key("payouts", "2026-11"), "shopify_payments/payouts.json",
                   {"date_min": "2026-11-01", "date_max": "2026-11-30"}, "payouts", CursorStore(path), lambda *_: None)

    saved = json.loads(path.read_text())
    assert saved == {"payouts/2026-11": {
        "request": "shopify_payments/payouts.json?date_max=2026-11-30&date_min=2026-11-01",
        "next_url": None, "pages_done": 1, "high_water_mark": "2026-11-08", "completed": True}}
    with pytest.raises(ValueError):
        stream_key("inventory", "2026-11-02")
