"""Pull one business day from the Selling Partner API into the landing zone.

A business day is a calendar day in the marketplace's time zone (America/New_York for
Amazon.com). It covers:
- "search_orders": the orders last updated that day, each with its items (Orders API 2026-01-01
  searchOrders lastUpdatedAfter/lastUpdatedBefore, both inclusive at Amazon, so the window ends one
  second before the next day starts). Orders v0 served items one request per order, hours of
  requests on a peak day at Amazon's 0.5 a second; searchOrders brings up to 100 orders a request;
- "settlement_reports": the V2 settlement reports Amazon created that day (Amazon schedules them;
  they are listed, never requested), each document landed byte for byte as a file with
  LandingZone.land_file, so the raw loader parses it like a Seller Central download.

Every page is landed as soon as it arrives and the cursor store remembers how far each stream
got (the orders' nextToken, the number of reports landed), so a pull that dies
resumes where it stopped. A finished day clears its cursors: pulling it again is a replay.
Cursor keys are "amazon/<stream>/<day>", so one cursor file can serve several vendors.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.amazon.models import SETTLEMENT_REPORT_TYPE
from connectors.landing_zone import LandingZone
from connectors.shopify.extract import CursorStore, StreamCursor

SOURCE = "amazon"
STREAMS = ("search_orders", "settlement_reports")


@dataclass
class PullReport:
    records: dict[str, int] = field(default_factory=lambda: {stream: 0 for stream in STREAMS})
    pages: int = 0


def cursor_key(stream: str, partition: str) -> str:
    return f"{SOURCE}/{stream}/{partition}"


def pull_business_day(client, landing: LandingZone, cursors: CursorStore, *, day: date, time_zone: str,
                      log: Callable[[str], None] = print) -> PullReport:
    partition = day.isoformat()
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(time_zone))
    last_second = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(time_zone)) - timedelta(seconds=1)
    report = PullReport()

    _pull_orders(client, landing, cursors, partition, start, last_second, report)
    log(f"{partition}: {report.records['search_orders']} updated Amazon orders landed")
    _pull_settlement_reports(client, landing, cursors, partition, start, last_second, report, log)
    log(f"{partition}: landed {report.records} in {report.pages} pages/files")
    for stream in STREAMS:
        cursors.reset(cursor_key(stream, partition))
    return report


def _pull_orders(client, landing, cursors, partition, start, last_second, report) -> None:
    key = cursor_key("search_orders", partition)
    request = f"orders?lastUpdatedAfter={start.isoformat()}&lastUpdatedBefore={last_second.isoformat()}"
    cursor = cursors.get(key)
    if cursor.request != request:
        cursor = StreamCursor(request=request)
    if cursor.completed:
        return
    pages = client.search_orders_pages(last_updated_after=start, last_updated_before=last_second,
                                       pagination_token=cursor.next_url)
    for page in pages:
        number = cursor.pages_done + 1
        landing.land(SOURCE, "search_orders", partition, page.records, request_url=page.url, page=number)
        report.records["search_orders"] += len(page.records)
        report.pages += 1
        # The nextToken lives in next_url: the cursor format is shared with the Shopify extractor.
        cursor.pages_done, cursor.next_url, cursor.completed = number, page.next_token, page.next_token is None
        cursors.save(key, cursor)


def _pull_settlement_reports(client, landing, cursors, partition, start, last_second, report, log) -> None:
    key = cursor_key("settlement_reports", partition)
    listed = client.reports(report_types=[SETTLEMENT_REPORT_TYPE], created_since=start, created_until=last_second,
                            processing_statuses=["DONE"])
    # Amazon lists newest first; land oldest first so "reports landed" is a stable position to resume from.
    listed.sort(key=lambda r: (r["createdTime"], r["reportId"]))
    done = cursors.get(key).pages_done
    for number, listed_report in enumerate(listed):
        if number < done:
            continue
        document = client.get_report_document(listed_report["reportDocumentId"])
        content = client.download_report_document(document)
        with tempfile.TemporaryDirectory() as scratch:
            # Named by report id only: the landed name never feeds the rows, the content hash dedupes.
            path = Path(scratch) / f"settlement-report-{listed_report['reportId']}.txt"
            path.write_bytes(content)
            landing.land_file(SOURCE, "settlement_reports", partition, path)
        cursors.save(key, StreamCursor(request="reports/GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
                                       pages_done=number + 1))
        report.records["settlement_reports"] += 1
        report.pages += 1
    log(f"{partition}: {len(listed)} settlement reports created")
