"""Pull one business day from Shopify into the landing zone.

A business day is a calendar day in the shop's time zone. It covers the orders updated that day,
their transactions (REST serves those one order a request, so they come from one GraphQL bulk
operation over the same window: bulk_operations.py), and the Shopify Payments payouts dated that
day with their balance transactions. Every page is landed as soon as it arrives; the cursor store
remembers the next page (for the bulk file: the operation and the pages landed), so a pull that dies
half-way resumes where it stopped, and a finished pull clears its cursors so that pulling the day
again (a replay) fetches it afresh.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from connectors.landing_zone import LandingZone, read_landed
from connectors.shopify.bulk_operations import (BulkOperationGone, order_transactions_query, result_lines,
                                                start_bulk_query, wait_for)
from connectors.shopify.client import Page
from connectors.shopify.extract import CursorStore, StreamCursor, extract_window, stream_key

SOURCE = "shopify"
ORDER_LINES_PER_PAGE = 1000  # bulk file lines (one order and its transactions each) per landed page


@dataclass
class PullReport:
    records: dict[str, int] = field(default_factory=lambda: {"orders": 0, "transactions": 0, "payouts": 0,
                                                             "balance_transactions": 0})
    pages: int = 0


def pull_business_day(client, landing: LandingZone, cursors: CursorStore, *, day: date, time_zone: str,
                      log: Callable[[str], None] = print) -> PullReport:
    partition = day.isoformat()
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(time_zone))
    last_second = start + timedelta(days=1) - timedelta(seconds=1)  # Shopify's updated_at_max is inclusive
    report = PullReport()

    def lander(stream: str):
        def land(page: Page, number: int) -> None:
            landing.land(SOURCE, stream, partition, page.records, request_url=page.url, page=number)
            report.records[stream] += len(page.records)
            report.pages += 1
        return land

    extract_window(client, stream_key("orders", partition), "orders.json",
                   {"status": "any", "updated_at_min": start.isoformat(), "updated_at_max": last_second.isoformat(),
                    "limit": 250}, "orders", cursors, lander("orders"))
    log(f"{partition}: {report.records['orders']} updated orders landed")
    _pull_transactions(client, landing, cursors, partition, order_transactions_query(start, last_second), report)

    extract_window(client, stream_key("payouts", partition), "shopify_payments/payouts.json",
                   {"date_min": partition, "date_max": partition, "limit": 250}, "payouts", cursors, lander("payouts"))
    payout_ids = sorted(_landed_ids(landing, "payouts", partition))
    for payout_id in payout_ids:
        extract_window(client, stream_key("balance_transactions", partition, str(payout_id)),
                       "shopify_payments/balance/transactions.json", {"payout_id": payout_id, "limit": 250},
                       "transactions", cursors, lander("balance_transactions"))
    log(f"{partition}: {len(payout_ids)} payouts; landed {report.records} in {report.pages} pages")
    for key in cursors.all():
        if key.split("/")[1] == partition:
            cursors.reset(key)
    return report


def _landed_ids(landing: LandingZone, stream: str, partition: str) -> set[int]:
    return {record["id"] for path in landing.files(SOURCE, stream, partition) for record in read_landed(path).records}


def _pull_transactions(client, landing, cursors, partition, query: str, report) -> None:
    """The window's orders with their transactions, from one bulk operation, landed in pages of order lines.

    The cursor keeps the operation's id once it has started: a pull that dies while landing its file
    polls the same operation again and skips the pages landed (Shopify keeps the file for a week)."""
    key = stream_key("order_transactions", partition)
    cursor = cursors.get(key)
    operation = None
    if cursor.request:
        try:
            operation = wait_for(client, cursor.request)
        except BulkOperationGone:
            cursor = StreamCursor()  # expired: run it again; pages landed twice dedupe in the raw load
    if operation is None:
        cursor = StreamCursor(request=start_bulk_query(client, query))
        cursors.save(key, cursor)
        operation = wait_for(client, cursor.request)
    for number, lines in enumerate(_pages_of(result_lines(operation.url), ORDER_LINES_PER_PAGE)):
        if number < cursor.pages_done:
            continue  # landed by an earlier attempt that died later on
        landing.land(SOURCE, "order_transactions", partition, lines, request_url=f"graphql.json bulk {operation.id}",
                     page=number)
        cursors.save(key, StreamCursor(request=operation.id, pages_done=number + 1))
        report.records["transactions"] += sum(len(line.get("transactions") or []) for line in lines)
        report.pages += 1


def _pages_of(lines: Iterator[dict], size: int) -> Iterator[list[dict]]:
    page = []
    for line in lines:
        page.append(line)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page
