"""Pull the ERP's reference data into the landing zone: a full snapshot of each collection per pull.

Items, legal entities, locations and GL accounts are small and change rarely, and the ERP offers
no change feed for them, so every pull lands every page of every collection (source "erp",
streams items, legal_entities, locations, gl_accounts) under the given partition (e.g. the pull
date). Nothing to resume: a pull that dies is simply run again, and the raw load dedupes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from connectors.erp.client import DEFAULT_PAGE_SIZE, ErpClient
from connectors.erp.raw_tables import STREAMS
from connectors.landing_zone import LandingZone

SOURCE = "erp"


@dataclass
class PullReport:
    records: dict[str, int] = field(default_factory=lambda: {stream: 0 for stream in STREAMS})
    pages: int = 0


def pull_reference_data(client: ErpClient, landing: LandingZone, *, partition: str,
                        log: Callable[[str], None] = print, page_size: int = DEFAULT_PAGE_SIZE) -> PullReport:
    report = PullReport()
    for stream, (resource, _, _) in STREAMS.items():
        for number, page in enumerate(client.get_pages(resource, page_size=page_size), start=1):
            landing.land(SOURCE, stream, partition, page.records, request_url=page.url, page=number)
            report.records[stream] += len(page.records)
            report.pages += 1
    log(f"{partition}: landed ERP reference data {report.records} in {report.pages} pages")
    return report


def pull_business_day(client: ErpClient, landing: LandingZone, cursors=None, *, day: date, time_zone: str,
                      log: Callable[[str], None] = print) -> PullReport:
    """The daily pull's shape (as every API source has): reference data is a full snapshot, filed under the day."""
    return pull_reference_data(client, landing, partition=day.isoformat(), log=log)
