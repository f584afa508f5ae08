"""Pull one business day of WMS movement events into the landing zone, resumably.

A business day is a calendar day in the given time zone (the legal entity's, or one location's).
The movement feed is asked for the events that occurred in [local midnight, next local midnight),
page by page along the feed's cursor. Every page is landed (source "wms", stream "movements") as
soon as it arrives and the next-page URL (it carries the cursor) is saved in the CursorStore under
"movements/<day>": a pull that dies resumes at the saved page, and a finished pull clears its
cursor so that pulling the day again (a replay) fetches it afresh. Delivery is at-least-once (a
page landed just before a crash is landed again); the raw load dedupes by event id.

`pull_inventory_levels` lands the API's current levels (stream "inventory_levels"): a snapshot
of now, not of a past day, so it is not resumable and simply lands every page.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from connectors.landing_zone import LandingZone
from connectors.shopify.extract import CursorStore, extract_window
from connectors.http_retry import Page
from connectors.wms.client import MOVEMENTS_MAX_LIMIT, WmsClient

SOURCE = "wms"


@dataclass
class PullReport:
    records: dict[str, int] = field(default_factory=lambda: {"movements": 0})
    pages: int = 0


def movements_key(day: date) -> str:
    return f"movements/{day.isoformat()}"


def pull_business_day(client: WmsClient, landing: LandingZone, cursors: CursorStore, *, day: date, time_zone: str,
                      log: Callable[[str], None] = print, limit: int = MOVEMENTS_MAX_LIMIT) -> PullReport:
    partition = day.isoformat()
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(time_zone))
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(time_zone))
    report = PullReport()

    def land(page: Page, number: int) -> None:
        landing.land(SOURCE, "movements", partition, page.records, request_url=page.url, page=number)
        report.records["movements"] += len(page.records)
        report.pages += 1

    params = {"occurred_at_min": start.isoformat(), "occurred_at_max": end.isoformat(), "limit": limit}
    extract_window(client, movements_key(day), "inventory/movements", params, "events", cursors, land,
                   high_water_field="occurred_at")
    log(f"{partition}: landed {report.records['movements']} WMS movement events in {report.pages} pages")
    cursors.reset(movements_key(day))
    # the levels as the day is pulled: a check on the movements, and the freshest state for ATS
    levels = pull_inventory_levels(client, landing, partition=partition, log=log)
    report.records.update(levels.records)
    report.pages += levels.pages
    return report


def pull_inventory_levels(client: WmsClient, landing: LandingZone, *, partition: str, location: str | None = None,
                          log: Callable[[str], None] = print) -> PullReport:
    report = PullReport(records={"inventory_levels": 0})
    for number, page in enumerate(client.level_pages(location=location), start=1):
        landing.land(SOURCE, "inventory_levels", partition, page.records, request_url=page.url, page=number)
        report.records["inventory_levels"] += len(page.records)
        report.pages += 1
    log(f"{partition}: landed {report.records['inventory_levels']} WMS inventory levels in {report.pages} pages")
    return report
