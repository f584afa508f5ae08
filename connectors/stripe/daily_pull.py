"""Pull one business day from Stripe into the landing zone.

A business day is a calendar day in the account's time zone (Stripe's payout schedule runs on
it). The pull covers:

- payouts ARRIVING that day: `arrival_date` is what the bank statement shows, so it is what
  settlement matching pairs with a deposit. Stripe filters payouts on `arrival_date` and
  `created` only; `arrival_date` is a Unix timestamp at 00:00 UTC of the arrival date (a date,
  not an instant), so the filter is the UTC day [d 00:00Z, d+1 00:00Z), not the local day;
- for each such payout, its balance transactions (`/v1/balance_transactions?payout=po_...`,
  the payout's own `payout` transaction included). Stripe's objects do not name their payout,
  so each payout's pages are landed under the stream `balance_transactions.<payout id>`
  (raw_tables.payout_stream) and the raw loader keeps the link; the payload stays as sent;
- charges, refunds and disputes CREATED in the local day (`created[gte]`/`created[lt]`).

Every page is landed as soon as it arrives (source "stripe"), then its cursor is saved: the
request and the id of the page's last object, the `starting_after` of the next page. A pull that
dies (StripeAPIError after retries, a killed process) resumes after the last landed page; a
finished day clears its cursors, so pulling the day again (a replay) fetches it afresh. Cursor
keys are "stripe/<stream>/<day>[/<payout>]", so a cursor file shared with other vendors' pulls
never mixes their keys.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from connectors.landing_zone import LandingZone, read_landed
from connectors.shopify.extract import CursorStore, StreamCursor
from connectors.stripe.client import MAX_LIMIT, StripeClient, StripePage
from connectors.stripe.raw_tables import payout_stream

SOURCE = "stripe"
CREATED_STREAMS = {"charges": "/v1/charges", "refunds": "/v1/refunds", "disputes": "/v1/disputes"}


@dataclass
class PullReport:
    records: dict[str, int] = field(default_factory=lambda: {"payouts": 0, "balance_transactions": 0,
                                                             "charges": 0, "refunds": 0, "disputes": 0})
    pages: int = 0


def cursor_key(stream: str, partition: str, *more: str) -> str:
    return "/".join((SOURCE, stream, partition, *more))


def pull_business_day(client: StripeClient, landing: LandingZone, cursors: CursorStore, *, day: date,
                      time_zone: str, log: Callable[[str], None] = print, page_size: int = MAX_LIMIT) -> PullReport:
    """Land the payouts arriving on `day` with their balance transactions, and the charges, refunds
    and disputes created on it in `time_zone`; `page_size` is Stripe's `limit` (100 at most)."""
    partition = day.isoformat()
    local_start = datetime.combine(day, time(0), tzinfo=ZoneInfo(time_zone))
    local_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(time_zone))
    utc_start = datetime.combine(day, time(0), tzinfo=timezone.utc)
    report = PullReport()

    def lander(stream: str, landed_as: str | None = None):
        def land(page: StripePage, number: int) -> None:
            landing.land(SOURCE, landed_as or stream, partition, page.records, request_url=page.url, page=number)
            report.records[stream] += len(page.records)
            report.pages += 1
        return land

    _extract(client, cursors, cursor_key("payouts", partition), "/v1/payouts",
             {"arrival_date[gte]": _unix(utc_start), "arrival_date[lt]": _unix(utc_start + timedelta(days=1)),
              "limit": page_size}, lander("payouts"))
    payout_ids = sorted({p["id"] for path in landing.files(SOURCE, "payouts", partition)
                         for p in read_landed(path).records})
    for payout_id in payout_ids:
        _extract(client, cursors, cursor_key("balance_transactions", partition, payout_id),
                 "/v1/balance_transactions", {"payout": payout_id, "limit": page_size},
                 lander("balance_transactions", payout_stream(payout_id)))
    for stream, path in CREATED_STREAMS.items():
        _extract(client, cursors, cursor_key(stream, partition), path,
                 {"created[gte]": _unix(local_start), "created[lt]": _unix(local_end), "limit": page_size},
                 lander(stream))
    log(f"stripe {partition}: {len(payout_ids)} payouts arriving; landed {report.records} in {report.pages} pages")
    for key in cursors.all():
        parts = key.split("/")
        if parts[0] == SOURCE and len(parts) > 2 and parts[2] == partition:
            cursors.reset(key)
    return report


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _extract(client: StripeClient, cursors: CursorStore, key: str, path: str, params: dict,
             on_page: Callable[[StripePage, int], None]) -> None:
    """Page through one list request from where its saved cursor stopped, saving it after each landed page."""
    request = f"{path}?{urlencode(sorted((k, str(v)) for k, v in params.items()))}"
    cursor = cursors.get(key)
    if cursor.request != request:  # never saved, or saved for other filters: start over
        cursor = StreamCursor(request=request)
    if cursor.completed:
        return
    start = dict(params)
    if cursor.next_url:
        start["starting_after"] = dict(parse_qsl(urlsplit(cursor.next_url).query))["starting_after"]
    for page in client.list_pages(path, start):
        number = cursor.pages_done + 1
        on_page(page, number)
        cursor.pages_done = number
        cursor.completed = not page.has_more
        # the next page's request: the same filters after this page's last object
        after = urlencode({"starting_after": page.records[-1]["id"]}) if page.records else ""
        cursor.next_url = None if cursor.completed else f"{request}&{after}"
        cursors.save(key, cursor)
