"""The Selling Partner API client and the daily pull, over HTTP against the fake SP-API on loopback."""
from __future__ import annotations

import dataclasses
import logging
import math
from datetime import date, datetime, timezone

import pytest

from connectors.amazon.client import SellingPartnerAPIError, SellingPartnerClient
from connectors.amazon.daily_pull import pull_business_day
from connectors.amazon.lwa import LwaError
from connectors.amazon.models import SETTLEMENT_REPORT_TYPE
from connectors.landing_zone import LandingZone, read_landed
from connectors.sandbox.amazon_api import FakeSellingPartnerAPI
from connectors.sandbox.channels import amazon as amazon_channel
from connectors.sandbox.world import World
from connectors.shopify.extract import CursorStore

CLIENT_ID = "amzn1.application-oa2-client.0123456789abcdef"
CLIENT_SECRET = "amzn1.oa2-cs.v1.secret-do-not-log-1f2e3d"
REFRESH_TOKEN = "Atzr|IwEBIrefresh-do-not-log-9a8b7c"
TZ = "America/New_York"
DAYS = [date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]
WINDOW_START = datetime(2026, 11, 2, 5, 0, tzinfo=timezone.utc)  # midnight in New York


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def sandbox():
    return amazon_channel.simulate(World(seed=3, start_date=DAYS[0], days=3))


@pytest.fixture
def api(sandbox):
    with FakeSellingPartnerAPI(sandbox, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, orders_page_size=7) as running:
        yield running


def _client(api, **options) -> SellingPartnerClient:
    options = {"backoff_seconds": 0.001, "max_retries": 3, "timeout": 5, **options}
    secret = options.pop("client_secret", CLIENT_SECRET)
    refresh = options.pop("refresh_token", REFRESH_TOKEN)
    return SellingPartnerClient(CLIENT_ID, secret, refresh, base_url=api.base_url, token_url=api.token_url, **options)


def _all_orders(client) -> list[dict]:
    return [o for page in client.search_orders_pages(last_updated_after=WINDOW_START) for o in page.records]


# ---- Login with Amazon ---------------------------------------------------------------------

def test_one_token_exchange_serves_many_calls(api, sandbox):
    client = _client(api)
    assert len(_all_orders(client)) == len(sandbox.orders)
    client.get_report(sandbox.reports[0]["reportId"])
    assert api.tokens_issued == 1 and client.lwa.exchanges == 1
    lwa_calls = [r for r in api.request_log if r.operation == "lwa"]
    assert len(lwa_calls) == 1 and lwa_calls[0].method == "POST"


def test_a_token_about_to_expire_is_refreshed_before_it_is_used(sandbox):
    clock = FakeClock()
    with FakeSellingPartnerAPI(sandbox, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, clock=clock) as api:
        client = _client(api, clock=clock)
        client.get_report(sandbox.reports[0]["reportId"])
        clock.now += 3600 - 30  # inside the safety margin: still valid at LWA, but not for long
        client.get_report(sandbox.reports[0]["reportId"])
        assert api.tokens_issued == 2
        assert all(r.status == 200 for r in api.request_log)  # refreshed ahead of time, never refused


def test_a_token_revoked_early_is_refreshed_once_on_401(api, sandbox):
    client = _client(api)
    client.get_report(sandbox.reports[0]["reportId"])
    api.expire_access_tokens()
    report = client.get_report(sandbox.reports[1]["reportId"])
    assert report["reportId"] == sandbox.reports[1]["reportId"]
    assert [r.status for r in api.request_log if r.operation == "getReport"] == [200, 401, 200]
    assert api.tokens_issued == 2


@pytest.mark.parametrize("options, status, error", [
    ({"refresh_token": "Atzr|revoked-refresh-token-xyz"}, 400, "invalid_grant"),
    ({"client_secret": "amzn1.oa2-cs.v1.wrong-secret-xyz"}, 401, "invalid_client"),
])
def test_refused_credentials_fail_at_once_naming_no_secret(api, caplog, options, status, error):
    client = _client(api, **options)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LwaError) as raised:
        client.get_report("1")
    assert (raised.value.status, raised.value.error) == (status, error)
    assert error in str(raised.value)
    shown = str(raised.value) + repr(client) + repr(client.lwa) + caplog.text
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, *options.values()):
        assert secret not in shown
    assert len([r for r in api.request_log if r.operation == "lwa"]) == 1  # no retry of a refusal


def test_a_request_without_a_valid_token_is_refused(api):
    import requests
    response = requests.get(api.base_url + "/orders/2026-01-01/orders", params={"marketplaceIds": "ATVPDKIKX0DER"},
                            headers={"x-amz-access-token": "Atza|forged"}, timeout=5)
    assert response.status_code == 401 and response.json()["errors"][0]["code"] == "Unauthorized"


# ---- Orders ---------------------------------------------------------------------------------

def test_orders_page_by_next_token_and_arrive_once_in_update_order(api, sandbox):
    client = _client(api)
    pages = list(client.search_orders_pages(last_updated_after=WINDOW_START))
    assert len(pages) == math.ceil(len(sandbox.orders) / 7)
    orders = [o for page in pages for o in page.records]
    assert sorted(o["orderId"] for o in orders) == sorted(o["AmazonOrderId"] for o in sandbox.orders)
    stamps = [(o["lastUpdatedTime"], o["orderId"]) for o in orders]
    assert stamps == sorted(stamps)
    assert pages[-1].next_token is None and all(p.next_token for p in pages[:-1])
    requests = [r.query for r in api.request_log if r.operation == "searchOrders"]
    assert len(requests) == len(pages)  # one request a page: the items came with their orders
    first, follow_ups = requests[0], requests[1:]
    assert follow_ups and all(q == {**first, "paginationToken": q["paginationToken"]} for q in follow_ups)


def test_every_order_brings_its_items_and_the_datasets_the_raw_tables_need(api, sandbox):
    orders = {o["orderId"]: o for o in _all_orders(_client(api))}
    for v0_order in sandbox.orders:
        order = orders[v0_order["AmazonOrderId"]]
        assert [i["orderItemId"] for i in order["orderItems"]] == [
            i["OrderItemId"] for i in sandbox.order_items[v0_order["AmazonOrderId"]]]
        assert {"buyer", "recipient", "proceeds", "fulfillment"} <= set(order)
        for item in order["orderItems"]:
            assert {"proceeds", "fulfillment"} <= set(item)


def test_without_included_data_an_order_has_its_items_and_nothing_else(api, sandbox):
    [order, *_] = next(_client(api).search_orders_pages(last_updated_after=WINDOW_START, included_data=())).records
    assert not {"buyer", "recipient", "proceeds", "fulfillment"} & set(order)
    assert order["orderItems"] and not any("proceeds" in item for item in order["orderItems"])


def test_the_update_window_is_inclusive_at_both_ends(api, sandbox):
    target = sandbox.orders[5]
    moment = datetime.fromisoformat(target["LastUpdateDate"].replace("Z", "+00:00"))
    found = [o["orderId"] for page in _client(api).search_orders_pages(last_updated_after=moment,
                                                                       last_updated_before=moment)
             for o in page.records]
    assert target["AmazonOrderId"] in found
    assert all(o["LastUpdateDate"] == target["LastUpdateDate"] for o in sandbox.orders
               if o["AmazonOrderId"] in found)


def test_a_pagination_token_with_other_filters_is_refused(api):
    client = _client(api)
    token = next(client.search_orders_pages(last_updated_after=WINDOW_START)).next_token
    with pytest.raises(SellingPartnerAPIError) as raised:
        next(client.search_orders_pages(last_updated_after=datetime(2026, 11, 3, tzinfo=timezone.utc),
                                        pagination_token=token))
    assert raised.value.status == 400 and raised.value.code == "InvalidInput"


def test_a_bad_request_is_not_retried_and_names_amazons_error_code(api):
    client = _client(api)
    with pytest.raises(SellingPartnerAPIError) as raised:
        client.get_report_document("amzn1.spdoc.does-not-exist")
    assert raised.value.status == 404 and raised.value.code == "NotFound"
    assert len([r for r in api.request_log if r.operation == "getReportDocument"]) == 1


# ---- Reports --------------------------------------------------------------------------------

@pytest.mark.parametrize("compressed", [False, True])
def test_settlement_reports_are_listed_then_downloaded_without_the_token(sandbox, compressed):
    with FakeSellingPartnerAPI(sandbox, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, gzip_documents=compressed) as api:
        client = _client(api)
        listed = client.reports(report_types=[SETTLEMENT_REPORT_TYPE], created_since=WINDOW_START, page_size=2)
        assert len([r for r in api.request_log if r.operation == "getReports"]) == 2  # 3 reports, pages of 2
        assert [r["createdTime"] for r in listed] == sorted((r["createdTime"] for r in listed), reverse=True)
        assert {r["reportId"] for r in listed} == {r["reportId"] for r in sandbox.reports}
        for report in listed:
            assert client.get_report(report["reportId"])["processingStatus"] == "DONE"
            document = client.get_report_document(report["reportDocumentId"])
            assert document.get("compressionAlgorithm") == ("GZIP" if compressed else None)
            assert client.download_report_document(document) == sandbox.documents[report["reportDocumentId"]]
        downloads = [r for r in api.request_log if r.operation == "download"]
        assert len(downloads) == 3 and not any(r.had_token for r in downloads)


def test_a_tampered_download_url_is_refused(api, sandbox):
    client = _client(api)
    document = client.get_report_document(sandbox.reports[0]["reportDocumentId"])
    document["url"] = document["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(SellingPartnerAPIError) as raised:
        client.download_report_document(document)
    assert raised.value.status == 403 and "Signature" not in str(raised.value)


# ---- throttling and outages -----------------------------------------------------------------

def test_throttling_without_retry_after_is_backed_off_and_every_order_arrives(sandbox):
    with FakeSellingPartnerAPI(sandbox, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, orders_page_size=7,
                               rate_limits={"searchOrders": (50.0, 1)}) as api:
        orders = _all_orders(_client(api, backoff_seconds=0.01, max_retries=8))
        assert len(orders) == len(sandbox.orders)
        statuses = [r.status for r in api.request_log if r.operation == "searchOrders"]
        assert 429 in statuses and statuses.count(200) == math.ceil(len(sandbox.orders) / 7)


def test_retry_after_is_honoured_when_amazon_sends_it(sandbox):
    with FakeSellingPartnerAPI(sandbox, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, orders_page_size=7,
                               rate_limits={"searchOrders": (100.0, 1)}, retry_after_seconds=0.02) as api:
        # A 30 s exponential backoff would blow any time budget: finishing at all means Retry-After was used.
        orders = _all_orders(_client(api, backoff_seconds=30, max_retries=8))
        assert len(orders) == len(sandbox.orders)
        assert any(r.status == 429 for r in api.request_log)


def test_server_errors_are_retried_then_run_out(api, sandbox):
    client = _client(api)
    api.fail_next(2, status=503)
    assert client.get_report(sandbox.reports[0]["reportId"])["reportId"] == sandbox.reports[0]["reportId"]
    api.fail_next(10)
    with pytest.raises(SellingPartnerAPIError) as raised:
        client.get_report(sandbox.reports[0]["reportId"])
    assert raised.value.status == 500 and CLIENT_SECRET not in str(raised.value)


# ---- the daily pull -------------------------------------------------------------------------

def _landed(landing: LandingZone, stream: str) -> list[dict]:
    return [r for p in landing.files("amazon", stream) for r in read_landed(p).records]


def test_a_day_pull_lands_orders_with_their_items_and_the_reports_created_that_day(api, sandbox, tmp_path):
    landing, cursors = LandingZone(tmp_path / "landing"), CursorStore(tmp_path / "cursors.json")
    client = _client(api)
    report = pull_business_day(client, landing, cursors, day=DAYS[1], time_zone=TZ, log=lambda _: None)
    updated = [o for o in sandbox.orders if "2026-11-03T05:00:00Z" <= o["LastUpdateDate"] < "2026-11-04T05:00:00Z"]
    assert updated
    landed = _landed(landing, "search_orders")
    assert sorted(o["orderId"] for o in landed) == sorted(o["AmazonOrderId"] for o in updated)
    items = [i["orderItemId"] for o in landed for i in o["orderItems"]]
    assert sorted(items) == sorted(i["OrderItemId"] for o in updated for i in sandbox.order_items[o["AmazonOrderId"]])
    assert report.records == {"search_orders": len(updated), "settlement_reports": 1}
    # Day 2 of the window sees the report of day 1: Amazon creates it after the period closes.
    [landed_report] = landing.files("amazon", "settlement_reports", suffix=".txt")
    assert landed_report.read_bytes() == sandbox.report_document(sandbox.reports[0]["reportId"])
    assert cursors.all() == {}  # a finished day leaves no cursor: pulling it again is a replay


def test_a_pull_that_dies_resumes_where_it_stopped(api, sandbox, tmp_path, monkeypatch):
    client = _client(api, max_retries=1)
    landing, cursors = LandingZone(tmp_path / "landing"), CursorStore(tmp_path / "cursors.json")
    real_land = landing.land

    def land_then_break(source, stream, partition, records, **kw):
        path = real_land(source, stream, partition, records, **kw)
        if kw.get("page") in (1, 3):
            api.fail_next(2, status=503)  # down long enough to exhaust the one retry
        return path

    monkeypatch.setattr(landing, "land", land_then_break)
    key = f"amazon/search_orders/{DAYS[2]}"
    with pytest.raises(SellingPartnerAPIError):  # dies after the first page
        pull_business_day(client, landing, cursors, day=DAYS[2], time_zone=TZ, log=lambda _: None)
    assert cursors.get(key).pages_done == 1 and cursors.get(key).next_url

    before = len(api.request_log)
    with pytest.raises(SellingPartnerAPIError):  # resumes at page 2, dies after page 3
        pull_business_day(client, landing, cursors, day=DAYS[2], time_zone=TZ, log=lambda _: None)
    resumed = [r.query for r in api.request_log[before:] if r.operation == "searchOrders"]
    assert "paginationToken" in resumed[0]  # page 1 was not fetched again
    assert cursors.get(key).pages_done == 3

    monkeypatch.setattr(landing, "land", real_land)
    pull_business_day(client, landing, cursors, day=DAYS[2], time_zone=TZ, log=lambda _: None)
    landed_ids = [o["orderId"] for o in _landed(landing, "search_orders")]
    updated = [o["AmazonOrderId"] for o in sandbox.orders
               if "2026-11-04T05:00:00Z" <= o["LastUpdateDate"] < "2026-11-05T05:00:00Z"]
    assert len(updated) > 3 * 7 and sorted(landed_ids) == sorted(updated)  # each once, none lost
    assert cursors.all() == {}


def test_settlement_reports_resume_after_the_landed_ones(sandbox, tmp_path, monkeypatch):
    # All three reports created on one day, so the day lists several.
    same_day = dataclasses.replace(sandbox, reports=[{**r, "createdTime": f"2026-11-05T08:0{n}:00Z"}
                                                     for n, r in enumerate(sandbox.reports)])
    day = date(2026, 11, 5)
    landing, cursors = LandingZone(tmp_path / "landing"), CursorStore(tmp_path / "cursors.json")
    with FakeSellingPartnerAPI(same_day, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN) as api:
        client = _client(api, max_retries=1)
        real_land_file = landing.land_file

        def land_then_break(source, stream, partition, path):
            landed = real_land_file(source, stream, partition, path)
            if len(landing.files("amazon", "settlement_reports", suffix=".txt")) == 1:
                api.fail_next(2, status=503)
            return landed

        monkeypatch.setattr(landing, "land_file", land_then_break)
        with pytest.raises(SellingPartnerAPIError):
            pull_business_day(client, landing, cursors, day=day, time_zone=TZ, log=lambda _: None)
        assert cursors.get(f"amazon/settlement_reports/{day}").pages_done == 1
        pull_business_day(client, landing, cursors, day=day, time_zone=TZ, log=lambda _: None)
        landed = landing.files("amazon", "settlement_reports", suffix=".txt")
        assert sorted(p.read_bytes() for p in landed) == sorted(sandbox.documents.values())
        assert len([r for r in api.request_log if r.operation == "download"]) == 3  # none downloaded twice
