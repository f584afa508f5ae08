"""The exception queue remembers across builds: first seen, closed by the data, reopened, and decisions
that outlive both. Runs on DuckDB and on the real PostgreSQL, with a hand-made current exceptions table."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from connectors.warehouse import connect
from orchestration.exception_queue import (QueueError, ageing_buckets, ageing_chart, decisions, find_exception_id,
                                           list_queue, resolve, sync_queue)

DAY1 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
DAY2 = datetime(2026, 11, 3, 8, 0, tzinfo=timezone.utc)
DAY3 = datetime(2026, 11, 4, 8, 0, tzinfo=timezone.utc)
DAY4 = datetime(2026, 11, 5, 8, 0, tzinfo=timezone.utc)

# The same columns and types as the dbt contract of marts.reconciliation_exceptions.
CREATE_CURRENT = """
create table marts.reconciliation_exceptions (
    exception_id varchar not null, reason_code varchar, provider varchar, reference_type varchar,
    reference_id varchar, order_id varchar, payout_id varchar, amount numeric(18,4), currency varchar,
    detail varchar)
"""

MISMATCH = ("aaaaaaaa11111111", "amount_mismatch", "shopify_payments", "settlement_line", "txn_1", "o1", "po_1",
            Decimal("0.5000"), "USD", "settled 10.50 against payment p1 of 10.00")
NOT_SETTLED = ("bbbbbbbb22222222", "captured_not_settled", "shopify_payments", "payment", "pay_2", "o2", None,
               Decimal("25.0000"), "USD", "capture of 2026-11-01 is in no payout")
REFUND = ("aaaaaaaa33333333", "refund_without_order", "shopify_payments", "settlement_line", "txn_3", "o9", "po_1",
          Decimal("-7.2500"), "EUR", "refund for order o9, which is not in orders")


def set_current(warehouse, *exceptions) -> None:
    """What the latest dbt build found: replaces marts.reconciliation_exceptions, as a rebuild does."""
    warehouse.execute("delete from marts.reconciliation_exceptions")
    for row in exceptions:
        warehouse.execute("insert into marts.reconciliation_exceptions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          list(row))
    if warehouse.dialect == "postgres":
        warehouse.commit()  # psycopg2 holds the statements in a transaction until then


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path):
    target = (str(tmp_path / "warehouse.duckdb") if request.param == "duckdb"
              else request.getfixturevalue("postgres_database"))
    with connect(target) as wh:
        wh.execute("create schema if not exists marts")
        wh.execute(CREATE_CURRENT)
        if wh.dialect == "postgres":
            wh.commit()
        yield wh


def queue(warehouse) -> dict[str, object]:
    return {row.exception_id: row for row in list_queue(warehouse, today=date(2026, 11, 5))}


def test_first_sync_opens_every_current_exception(warehouse):
    set_current(warehouse, MISMATCH, NOT_SETTLED)
    changes = sync_queue(warehouse, DAY1)
    assert changes.opened == (MISMATCH[0], NOT_SETTLED[0])
    assert changes.counts() == {"opened": 2, "still_open": 0, "closed": 0, "reopened": 0}
    rows = queue(warehouse)
    assert {r.status for r in rows.values()} == {"open"}
    mismatch = rows[MISMATCH[0]]
    assert (mismatch.reason_code, mismatch.reference_id, mismatch.amount, mismatch.currency) == \
        ("amount_mismatch", "txn_1", Decimal("0.5"), "USD")
    assert mismatch.first_seen_at == mismatch.last_seen_at == datetime(2026, 11, 2, 8, 0)
    assert mismatch.closed_at is None and mismatch.age_days == 3


def test_a_sync_of_the_same_exceptions_changes_nothing_but_last_seen(warehouse):
    set_current(warehouse, MISMATCH)
    sync_queue(warehouse, DAY1)
    changes = sync_queue(warehouse, DAY1)
    assert changes.counts() == {"opened": 0, "still_open": 1, "closed": 0, "reopened": 0}
    set_current(warehouse, MISMATCH[:7] + (Decimal("0.7500"), "USD", "settled again"))
    sync_queue(warehouse, DAY2)
    row = queue(warehouse)[MISMATCH[0]]
    # The latest amount and detail, the first first_seen.
    assert (row.amount, row.detail, row.first_seen_at, row.last_seen_at) == \
        (Decimal("0.75"), "settled again", datetime(2026, 11, 2, 8), datetime(2026, 11, 3, 8))


def test_gone_closes_resolved_by_data_and_back_reopens_keeping_first_seen(warehouse):
    set_current(warehouse, MISMATCH, NOT_SETTLED)
    sync_queue(warehouse, DAY1)

    set_current(warehouse, MISMATCH)  # the late settlement arrived: the capture is settled now
    changes = sync_queue(warehouse, DAY2)
    assert changes.closed == (NOT_SETTLED[0],) and changes.still_open == (MISMATCH[0],)
    gone = queue(warehouse)[NOT_SETTLED[0]]
    assert (gone.status, gone.close_reason, gone.closed_at) == ("closed", "resolved_by_data", datetime(2026, 11, 3, 8))
    assert gone.first_seen_at == datetime(2026, 11, 2, 8) and gone.last_seen_at == datetime(2026, 11, 2, 8)
    assert gone.age_days == 1  # a closed exception stops ageing
    assert sync_queue(warehouse, DAY3).counts() == {"opened": 0, "still_open": 1, "closed": 0, "reopened": 0}

    set_current(warehouse, MISMATCH, NOT_SETTLED)
    changes = sync_queue(warehouse, DAY4)
    assert changes.reopened == (NOT_SETTLED[0],) and changes.opened == ()
    back = queue(warehouse)[NOT_SETTLED[0]]
    assert (back.status, back.closed_at, back.close_reason) == ("open", None, None)
    assert back.first_seen_at == datetime(2026, 11, 2, 8) and back.last_seen_at == datetime(2026, 11, 5, 8)
    assert list_queue(warehouse, status="closed") == []


def test_a_decision_survives_syncs_a_disappearance_and_a_return(warehouse):
    set_current(warehouse, MISMATCH, NOT_SETTLED)
    sync_queue(warehouse, DAY1)
    resolve(warehouse, MISMATCH[0], "accepted", "50 cents, agreed with the PSP", "ana",
            decided_at=datetime(2026, 11, 2, 12))
    assert queue(warehouse)[MISMATCH[0]].status == "accepted"

    sync_queue(warehouse, DAY2)
    assert queue(warehouse)[MISMATCH[0]].status == "accepted"

    set_current(warehouse, NOT_SETTLED)
    assert sync_queue(warehouse, DAY3).closed == (MISMATCH[0],)
    row = queue(warehouse)[MISMATCH[0]]
    assert (row.status, row.closed_at) == ("accepted", datetime(2026, 11, 4, 8))

    set_current(warehouse, MISMATCH, NOT_SETTLED)
    assert sync_queue(warehouse, DAY4).reopened == (MISMATCH[0],)
    row = queue(warehouse)[MISMATCH[0]]
    assert (row.status, row.closed_at, row.first_seen_at) == ("accepted", None, datetime(2026, 11, 2, 8))

    # Append-only: a later decision wins, the earlier one stays on record.
    resolve(warehouse, MISMATCH[0], "written_off", "PSP will not refund it", "bo")
    sync_queue(warehouse, DAY4)
    assert queue(warehouse)[MISMATCH[0]].status == "written_off"
    assert [(d[0], d[2]) for d in decisions(warehouse, MISMATCH[0])] == [("accepted", "ana"), ("written_off", "bo")]
    assert [r.exception_id for r in list_queue(warehouse, status="written_off")] == [MISMATCH[0]]
    assert [r.exception_id for r in list_queue(warehouse, status="open")] == [NOT_SETTLED[0]]


def test_resolve_refuses_what_it_cannot_record(warehouse):
    set_current(warehouse, MISMATCH, REFUND)
    sync_queue(warehouse, DAY1)
    with pytest.raises(QueueError, match="no exception 'ffffffff00000000'"):
        resolve(warehouse, "ffffffff00000000", "accepted", "why", "ana")
    with pytest.raises(QueueError, match="decision must be one of accepted, written_off"):
        resolve(warehouse, MISMATCH[0], "ignored", "why", "ana")
    with pytest.raises(QueueError, match="a note is required"):
        resolve(warehouse, MISMATCH[0], "accepted", "  ", "ana")
    assert decisions(warehouse, MISMATCH[0]) == []
    assert queue(warehouse)[MISMATCH[0]].status == "open"

    assert find_exception_id(warehouse, MISMATCH[0]) == MISMATCH[0]
    assert find_exception_id(warehouse, "aaaaaaaa1111") == MISMATCH[0]
    with pytest.raises(QueueError, match="ambiguous"):
        find_exception_id(warehouse, "aaaaaaaa")
    with pytest.raises(QueueError, match="too short"):
        find_exception_id(warehouse, "aaaa")
    with pytest.raises(QueueError, match="no exception 'cccccccc'"):
        find_exception_id(warehouse, "cccccccc")


def test_list_filters_by_reason_and_status(warehouse):
    set_current(warehouse, MISMATCH, NOT_SETTLED, REFUND)
    sync_queue(warehouse, DAY1)
    assert [r.reference_id for r in list_queue(warehouse, reason="refund_without_order")] == ["txn_3"]
    assert len(list_queue(warehouse, status="all")) == 3
    with pytest.raises(QueueError, match="status must be one of"):
        list_queue(warehouse, status="pending")


def test_ageing_buckets_count_only_open_exceptions(warehouse):
    set_current(warehouse, MISMATCH)
    sync_queue(warehouse, datetime(2026, 9, 1, tzinfo=timezone.utc))
    set_current(warehouse, MISMATCH, NOT_SETTLED)
    sync_queue(warehouse, datetime(2026, 10, 25, tzinfo=timezone.utc))
    set_current(warehouse, MISMATCH, NOT_SETTLED, REFUND)
    sync_queue(warehouse, DAY4)
    rows = list_queue(warehouse, today=date(2026, 11, 5))
    assert sorted(r.age_days for r in rows) == [0, 11, 65]
    assert ageing_buckets(rows) == {"0-2 days": 1, "3-7 days": 0, "8-30 days": 1, ">30 days": 1}
    resolve(warehouse, MISMATCH[0], "written_off", "too old to chase", "ana")
    assert ageing_buckets(list_queue(warehouse, today=date(2026, 11, 5)))[">30 days"] == 0


def test_ageing_chart_is_a_text_bar_per_bucket():
    chart = ageing_chart({"0-2 days": 8, "3-7 days": 4, "8-30 days": 0, ">30 days": 1}, width=8)
    assert chart.splitlines() == ["0-2 days  ████████ 8", "3-7 days  ████ 4", "8-30 days 0", ">30 days  █ 1"]
