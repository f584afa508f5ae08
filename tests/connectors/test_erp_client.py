"""The ERP connector against the fake ERP API on loopback: real HTTP, no mocks.

Covers OData-style $top/$skip paging with nextLink, exact amounts, bad tokens and scopes (never
echoed), 429 + Retry-After and 5xx retries on GET and POST, idempotent journal posting, the
default base URL that fails before any traffic, a reference pull that dies and is run again, and
the raw load into DuckDB.
"""
from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from connectors import raw_load
from connectors.erp import raw_tables
from connectors.erp.client import ErpAPIError, ErpClient
from connectors.erp.daily_pull import pull_reference_data
from connectors.erp.models import GlAccount, Item, JournalBatch
from connectors.landing_zone import LandingZone, read_landed
from connectors.sandbox.channels import erp
from connectors.sandbox.erp_api import FakeErpAPI
from connectors.sandbox.world import World
from connectors.warehouse import connect

TOKEN = "erp_tok_9b1d2c3e4f5a6b7c8d"
READ_ONLY = "erp_tok_reporting_only_0001"


@pytest.fixture
def world() -> World:
    return World(seed=3, start_date=date(2026, 11, 2), days=3)


@pytest.fixture
def sandbox(world):
    return erp.simulate(world)


@pytest.fixture
def api(sandbox):
    with FakeErpAPI(sandbox, TOKEN, read_only_tokens=(READ_ONLY,)) as running:
        yield running


def _client(api, token: str = TOKEN, **options) -> ErpClient:
    return ErpClient(api.base_url + "/api/v1", token, **{"backoff_seconds": 0.001, "max_retries": 3, "timeout": 5,
                                                        **options})


def _batch(batch_id: str = "PB-US01-2026-11-02-shopify", amount: str = "125.40", account: str = "1150") -> dict:
    return {"batchId": batch_id, "legalEntityId": "US01", "postingDate": "2026-11-02", "currency": "USD",
            "description": "Shopify Payments payout 2026-11-02",
            "lines": [{"accountCode": "1010", "debit": format(Decimal(amount) - Decimal("3.64"), "f"),
                       "memo": "payout"},
                      {"accountCode": "6150", "debit": "3.64", "memo": "processing fees"},
                      {"accountCode": account, "credit": amount, "memo": "clearing", "sourceRef": "po_123"}]}


def test_collections_page_with_top_and_skip_along_the_next_link(api, sandbox):
    pages = list(_client(api).get_pages("items", page_size=3))
    assert [r for p in pages for r in p.records] == sandbox.items
    assert [r.query["$skip"] for r in api.request_log] == ["0", "3", "6", "9"]
    assert pages[-1].next_url is None and all(p.next_url for p in pages[:-1])
    assert _client(api).list_all("gl-accounts") == sandbox.gl_accounts
    with pytest.raises(ValueError, match="unknown ERP resource"):
        _client(api).list_all("customers")


def test_amounts_stay_exact_even_when_the_erp_sends_json_numbers(api, sandbox):
    sandbox.items[0]["unitCost"] = 23.1  # an ERP without IEEE754Compatible sends a JSON number
    first, second = _client(api).list_all("items")[:2]
    assert first["unitCost"] == "23.1" and Item.model_validate(first).unit_cost == Decimal("23.1")
    assert Item.model_validate(second).unit_cost == Decimal("7.80")
    assert [GlAccount.model_validate(a).account_type for a in sandbox.gl_accounts].count("expense") >= 5


def test_a_bad_token_is_401_a_read_only_token_cannot_post_and_neither_is_echoed(api):
    with pytest.raises(ErpAPIError) as rejected:
        _client(api, "erp_tok_stolen_or_expired").list_all("items")
    assert rejected.value.status == 401 and rejected.value.code == "Unauthorized"
    assert "erp_tok_stolen_or_expired" not in str(rejected.value) + rejected.value.body
    assert len(_client(api, READ_ONLY).list_all("locations")) == 4
    with pytest.raises(ErpAPIError) as forbidden:
        _client(api, READ_ONLY).post_journal(_batch())
    assert forbidden.value.status == 403 and api.posted == {}
    assert TOKEN not in repr(_client(api))


def test_the_default_base_url_fails_clearly_before_any_traffic():
    client = ErpClient(api_token=TOKEN)
    with pytest.raises(ErpAPIError, match="no ERP base URL configured"):
        client.list_all("items")
    with pytest.raises(ValueError, match="token is required"):
        ErpClient("https://erp.acme.internal/api/v1", "")


def test_429_and_5xx_are_retried_on_get_and_post(api, caplog):
    api.fail_next(2, 429, retry_after=0.01)
    with caplog.at_level(logging.WARNING):
        assert len(_client(api).list_all("locations")) == 4
    assert [r.status for r in api.request_log[:3]] == [429, 429, 200] and "0.01s" in caplog.text
    api.fail_next(1, 503)
    result = _client(api).post_journal(_batch())
    assert result.created and result.status == 201
    posts = [r for r in api.request_log if r.method == "POST"]
    assert [r.status for r in posts] == [503, 201] and {r.idempotency_key for r in posts} == {_batch()["batchId"]}
    assert TOKEN not in caplog.text
    api.fail_next(4, 500)
    with pytest.raises(ErpAPIError) as outage:
        _client(api).list_all("items")
    assert outage.value.status == 500 and "after 3 retries" in str(outage.value)


def test_posting_a_journal_batch_is_idempotent_by_batch_id(api, sandbox):
    client = _client(api)
    first = client.post_journal(JournalBatch.model_validate(_batch()))
    assert (first.created, first.status, first.body["journalNumber"], first.body["totalDebit"]) == (
        True, 201, "JB-000001", "125.40")
    again = client.post_journal(_batch())  # a replay, or a retry after a lost answer
    assert (again.created, again.status, again.body) == (False, 200, first.body)
    assert list(sandbox.journal_batches) == [_batch()["batchId"]]
    with pytest.raises(ErpAPIError) as reused:
        client.post_journal(_batch(amount="130.00"))
    assert reused.value.status == 409 and reused.value.code == "IdempotencyKeyReused"
    with pytest.raises(ErpAPIError) as unknown:
        client.post_journal(_batch("PB-2", account="1999"))
    assert unknown.value.status == 422 and unknown.value.code == "UnknownAccount"
    assert len(sandbox.journal_batches) == 1
    unbalanced = _batch("PB-3")
    unbalanced["lines"][0]["debit"] = "122.00"
    with pytest.raises(ValidationError, match="does not balance"):
        client.post_journal(unbalanced)  # refused before it leaves


def test_a_reference_pull_that_dies_is_run_again_and_loads_idempotently(api, world, tmp_path, monkeypatch):
    landing = LandingZone(tmp_path / "landing")
    api.fail_next(1, 500, after=4)  # 3 pages of items and legal entities landed, the locations request fails
    with pytest.raises(ErpAPIError):
        pull_reference_data(_client(api, max_retries=0), landing, partition="2026-11-02", log=lambda _: None,
                            page_size=4)
    assert {read_landed(p).stream for p in landing.files("erp")} == {"items", "legal_entities"}
    report = pull_reference_data(_client(api), landing, partition="2026-11-02", log=lambda _: None, page_size=4)
    assert report.records == world.records["erp"]
    pull_reference_data(_client(api), landing, partition="2026-11-03", log=lambda _: None)  # the next day's snapshot

    bad = dict(api.sandbox.items[0], sku="BROKEN-1", unitCost="n/a")
    landing.land("erp", "items", "2026-11-03", [bad, api.sandbox.items[1]], page=99)
    monkeypatch.setitem(raw_load.RAW_SOURCES, "erp", raw_tables)
    files = landing.files("erp")
    with connect(str(tmp_path / "w.duckdb")) as warehouse:
        first = raw_load.load_landed_files(warehouse, files, source="erp")
        for table, key in raw_tables.RECORD_KEYS.items():
            distinct, rows = warehouse.fetchall(f"select count(distinct {key}), count(*) from raw_erp.{table}")[0]
            assert distinct == rows == world.records["erp"][table], table
        (reason,), = warehouse.fetchall("select reason from raw_erp._quarantine")
        assert first.quarantined == 1 and "unitCost" in reason
        (cost,), = warehouse.fetchall("select unit_cost from raw_erp.items where sku = 'JKT-RAIN-S'")
        assert cost == Decimal("52.00")
        (city, tz), = warehouse.fetchall("select city, time_zone from raw_erp.locations where code = 'ST-CHI'")
        assert (city, tz) == ("Chicago", "America/Chicago")
        (global_accounts,), = warehouse.fetchall(
            "select count(*) from raw_erp.gl_accounts where legal_entity_id is null")
        assert global_accounts == len([a for a in erp.CHART_OF_ACCOUNTS if a.legal_entity_id is None])
        again = raw_load.load_landed_files(warehouse, files, source="erp")
        assert again.files_loaded == 0
        assert warehouse.fetchall("select count(*) from raw_erp.items")[0][0] == world.records["erp"]["items"]


def test_the_chart_of_accounts_keeps_the_seeded_codes_and_a_world_can_be_served_directly(world):
    seeded = {"1010": "Bank operating", "1150": "Shopify Payments clearing", "6150": "Payment processing fees",
              "6190": "PSP adjustments"}
    chart = {a.code: a.name for a in erp.CHART_OF_ACCOUNTS}
    assert {code: chart[code] for code in seeded} == seeded
    assert {"1050", "1160", "1170", "1180", "1190", "1300", "2150", "2200", "4000", "4100", "4200", "4300",
            "5000"} <= set(chart)
    with FakeErpAPI(world, TOKEN) as api:  # built from the world itself, without counting it twice
        assert len(_client(api).list_all("legal-entities")) == 1
    assert "erp" not in world.records
