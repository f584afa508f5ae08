"""Pull one business day from Shopify into the landing zone.

A business day is a calendar day in the shop's time zone. It covers the orders updated that day,
their transactions (Shopify serves those per order), and the Shopify Payments payouts dated that
day with their balance transactions. Every page is landed as soon as it arrives; the cursor store
remembers the next page, so a pull that dies half-way resumes where it stopped, and a finished
pull clears its cursors so that pulling the day again (a replay) fetches it afresh.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from connectors.landing_zone import LandingZone, read_landed
from connectors.shopify.client import Page
from connectors.shopify.extract import CursorStore, StreamCursor, extract_window, stream_key

SOURCE = "shopify"
TRANSACTION_ORDERS_PER_PAGE = 50


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
    order_ids = _landed_ids(landing, "orders", partition)
    log(f"{partition}: {len(order_ids)} orders updated")
    _pull_transactions(client, landing, cursors, partition, sorted(order_ids), report)

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


def _pull_transactions(client, landing, cursors, partition, order_ids, report) -> None:
    """Shopify lists transactions per order only: fetch them order by order, land them in pages of orders."""
    key = stream_key("transactions", partition)
    done = cursors.get(key).pages_done
    for number, first in enumerate(range(0, len(order_ids), TRANSACTION_ORDERS_PER_PAGE)):
        if number < done:
            continue  # landed by an earlier attempt that died later on
        chunk = order_ids[first:first + TRANSACTION_ORDERS_PER_PAGE]
        records = [txn for order_id in chunk for txn in client.transactions_for_order(order_id)]
        landing.land(SOURCE, "transactions", partition, records, request_url=f"orders/{{id}}/transactions.json x{len(chunk)}",
                     page=number)
        cursors.save(key, StreamCursor(request="orders/{id}/transactions.json", pages_done=number + 1))
        report.records["transactions"] += len(records)
        report.pages += 1
