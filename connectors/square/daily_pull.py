"""Pull one business day of the stores' Square data into the landing zone.

A store's business day is a calendar day in the *store's* time zone, so the window differs per
location: 2026-11-02 is 05:00Z to 05:00Z next day in New York and 08:00Z to 08:00Z in San
Francisco. The pull first lists the locations (landed as stream "locations"; their `timezone`
sets each window, the entity's `time_zone` stands in for a location without one), then for every
location lands:

- "orders":   orders updated in the window (a return rung up today is a new order, not an update
              of the sold one, so each ticket lands on the day it was rung up);
- "payments": payments created in the window (a payment refunded later keeps its created day);
- "refunds":  refunds created in the window.

All of them land in the partition of the business date. Every page is landed as it arrives,
then its cursor is saved under "<stream>/<day>/<location id>" (Square's opaque cursor in
`next_url`, valid only with the same filters, which the resumed request repeats); a pull that
dies resumes at the saved page, and a finished pull clears the day's cursors so that pulling
the day again (a replay) fetches it afresh.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from connectors.landing_zone import LandingZone
from connectors.shopify.extract import CursorStore, StreamCursor
from connectors.square.client import SquareClient, SquarePage, rfc3339

SOURCE = "square"
STREAMS = ("locations", "orders", "payments", "refunds")


@dataclass
class PullReport:
    records: dict[str, int] = field(default_factory=lambda: {stream: 0 for stream in STREAMS})
    pages: int = 0


def local_day_window(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """[start, end) of a business day in a time zone (23 or 25 hours long on DST changes)."""
    zone = ZoneInfo(time_zone)
    return datetime.combine(day, time(0), tzinfo=zone), datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def pull_business_day(client: SquareClient, landing: LandingZone, cursors: CursorStore, *, day: date,
                      time_zone: str, log: Callable[[str], None] = print) -> PullReport:
    partition = day.isoformat()
    report = PullReport()
    locations = client.list_locations()
    landing.land(SOURCE, "locations", partition, locations, request_url=f"{client.base_url}/v2/locations", page=1)
    report.records["locations"] += len(locations)
    report.pages += 1

    for location in sorted(locations, key=lambda loc: loc["id"]):
        location_id, zone = location["id"], location.get("timezone") or time_zone
        start, end = local_day_window(day, zone)
        fetchers = {
            "orders": lambda cursor: client.search_orders([location_id], start, end, cursor=cursor),
            "payments": lambda cursor: client.list_payments(location_id, start, end, cursor=cursor),
            "refunds": lambda cursor: client.list_refunds(location_id, start, end, cursor=cursor),
        }
        for stream, fetch in fetchers.items():
            request = json.dumps({"stream": stream, "location_id": location_id, "start": rfc3339(start),
                                  "end": rfc3339(end)}, sort_keys=True)
            _extract(f"{stream}/{partition}/{location_id}", request, fetch, cursors,
                     _lander(landing, stream, partition, report))
        log(f"{partition} {location_id} ({zone}): landed up to now {report.records}")

    log(f"{partition}: {len(locations)} locations; landed {report.records} in {report.pages} pages")
    for key in cursors.all():
        if key.split("/")[1] == partition:
            cursors.reset(key)
    return report


def _lander(landing: LandingZone, stream: str, partition: str, report: PullReport):
    def land(page: SquarePage, number: int) -> None:
        landing.land(SOURCE, stream, partition, page.records, request_url=page.url, page=number)
        report.records[stream] += len(page.records)
        report.pages += 1
    return land


def _extract(key: str, request: str, fetch: Callable[[str | None], Iterator[SquarePage]], cursors: CursorStore,
             on_page: Callable[[SquarePage, int], None]) -> None:
    """Page through one request from its saved cursor on, landing and saving the cursor page by page."""
    cursor = cursors.get(key)
    if cursor.request != request:
        cursor = StreamCursor(request=request)  # nothing saved, or saved for another window
    if cursor.completed:
        return
    for page in fetch(cursor.next_url):
        number = cursor.pages_done + 1
        on_page(page, number)
        cursor.pages_done, cursor.next_url, cursor.completed = number, page.cursor, page.cursor is None
        cursors.save(key, cursor)
