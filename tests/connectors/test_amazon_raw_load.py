"""raw_amazon through connectors.raw_load into DuckDB: what the pull landed and what the inbox got.

The lead registers the module in raw_load.RAW_SOURCES; here it is registered for the test only.
"""
from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest

from connectors import raw_load
from connectors.amazon import raw_tables
from connectors.amazon.client import SellingPartnerClient
from connectors.amazon.daily_pull import pull_business_day
from connectors.landing_zone import LandingZone
from connectors.sandbox.amazon_api import FakeSellingPartnerAPI
from connectors.sandbox.channels import amazon as amazon_channel
from connectors.sandbox.world import World
from connectors.shopify.extract import CursorStore
from connectors.warehouse import connect

START = date(2026, 11, 2)


@pytest.fixture
def pulled(tmp_path, monkeypatch):
    """Every day of the window pulled over HTTP, plus the day after (the last report is created then)."""
    monkeypatch.setitem(raw_load.RAW_SOURCES, "amazon", raw_tables)
    world = World(seed=3, start_date=START, days=3)
    sandbox = amazon_channel.simulate(world)
    landing, cursors = LandingZone(tmp_path / "landing"), CursorStore(tmp_path / "cursors.json")
    with FakeSellingPartnerAPI(sandbox, "client", "secret", "Atzr|refresh", gzip_documents=True) as api:
        client = SellingPartnerClient("client", "secret", "Atzr|refresh", base_url=api.base_url,
                                      token_url=api.token_url, backoff_seconds=0.001)
        for offset in range(world.days + 1):
            pull_business_day(client, landing, cursors, day=START + timedelta(days=offset),
                              time_zone=amazon_channel.TIME_ZONE, log=lambda _: None)
    return world, sandbox, landing


def _landed(landing: LandingZone):
    return landing.files("amazon") + landing.files("amazon", suffix=".txt")


def _counts(wh) -> dict[str, int]:
    counts = {table: wh.fetchall(f"select count(distinct {key}) from raw_amazon.{table}")[0][0]
              for table, key in raw_tables.RECORD_KEYS.items()}
    counts["_quarantine"] = wh.fetchall("select count(*) from raw_amazon._quarantine")[0][0]
    return counts


def test_loaded_records_equal_the_ground_truth_and_a_second_load_adds_nothing(pulled, tmp_path):
    world, _, landing = pulled
    with connect(str(tmp_path / "w.duckdb")) as wh:
        first = raw_load.load_landed_files(wh, _landed(landing), source="amazon")
        assert _counts(wh) == world.records["amazon"]
        assert first.quarantined == world.records["amazon"]["_quarantine"]
        rows = {t: wh.fetchall(f"select count(*) from raw_amazon.{t}")[0][0] for t in raw_tables.RAW_TABLES}
        again = raw_load.load_landed_files(wh, _landed(landing), source="amazon")
        assert again.files_loaded == 0 and again.files_skipped == len(_landed(landing))
        assert {t: wh.fetchall(f"select count(*) from raw_amazon.{t}")[0][0] for t in raw_tables.RAW_TABLES} == rows


def test_money_lands_exactly_with_its_currency(pulled, tmp_path):
    _, sandbox, landing = pulled
    with connect(str(tmp_path / "w.duckdb")) as wh:
        raw_load.load_landed_files(wh, _landed(landing), source="amazon")
        settlement = sandbox.settlements[0]
        total, currencies = wh.fetchall(
            "select max(settlement_total_amount), string_agg(distinct currency, ',') "
            "from raw_amazon.settlement_report_rows where settlement_id = ?", [settlement.settlement_id])[0]
        assert (total, currencies) == (settlement.total, "USD")
        expected = sum(line.amount for line in settlement.lines if not line.malformed)
        assert wh.fetchall("select sum(amount) from raw_amazon.settlement_report_rows where settlement_id = ?",
                           [settlement.settlement_id])[0][0] == expected
        order = next(o for o in sandbox.orders if o["OrderTotal"])
        assert wh.fetchall("select order_total_amount, order_total_currency from raw_amazon.orders "
                           "where amazon_order_id = ?", [order["AmazonOrderId"]])[0] == (
            raw_tables.models.Money.model_validate(order["OrderTotal"]).Amount, "USD")


def test_a_malformed_row_is_quarantined_while_its_neighbours_land(pulled, tmp_path):
    _, _, landing = pulled
    with connect(str(tmp_path / "w.duckdb")) as wh:
        raw_load.load_landed_files(wh, _landed(landing), source="amazon")
        quarantined = wh.fetchall("select record_id, reason, _landed_file from raw_amazon._quarantine")
        assert quarantined
        for record_id, reason, landed_file in quarantined:
            assert "is not an amount" in reason
            line = int(record_id.removeprefix("line "))
            neighbours = wh.fetchall("select line_number from raw_amazon.settlement_report_rows "
                                     "where _landed_file = ? and line_number in (?, ?)",
                                     [landed_file, line - 1, line + 1])
            assert neighbours  # the rows around it loaded


def test_the_seller_central_download_adds_no_rows_to_the_api_copy(pulled, tmp_path):
    world, sandbox, landing = pulled
    inbox = tmp_path / "inbox"
    [dropped] = amazon_channel.drop_files(sandbox, inbox)
    renamed = tmp_path / "other-name.tsv"  # rows must not depend on the file name
    shutil.copy(dropped, renamed)
    assert raw_tables.parse_file(dropped).rows == raw_tables.parse_file(renamed).rows
    with connect(str(tmp_path / "w.duckdb")) as wh:
        raw_load.load_landed_files(wh, _landed(landing), source="amazon")
        before = _counts(wh)
        report = raw_load.load_landed_files(wh, [dropped, renamed], source="amazon")
        assert report.files_skipped == 2 and _counts(wh) == before == world.records["amazon"]


def test_the_inbox_copy_alone_loads_the_last_settlement(pulled, tmp_path):
    _, sandbox, _ = pulled
    [dropped] = amazon_channel.drop_files(sandbox, tmp_path / "inbox")
    last = sandbox.settlements[-1]
    with connect(str(tmp_path / "w.duckdb")) as wh:
        raw_load.load_landed_files(wh, [dropped], source="amazon")
        assert wh.fetchall("select count(*) from raw_amazon.settlement_report_rows")[0][0] == sum(
            not line.malformed for line in last.lines)


def test_the_same_landed_files_load_alike_into_postgresql(pulled, postgres_database):
    world, _, landing = pulled
    with connect(postgres_database) as wh:
        raw_load.load_landed_files(wh, _landed(landing), source="amazon")
        assert _counts(wh) == world.records["amazon"]
