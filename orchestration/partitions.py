"""Business-day partitions: a day is the legal entity's calendar day, not a UTC day.

Every daily partition ends at midnight in the entity's time zone; the last one is the day that ended
(yesterday), so a pull or a close never runs for a day still in progress.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import DailyPartitionsDefinition

ENTITY_TIME_ZONE = "America/New_York"
FIRST_BUSINESS_DAY = "2025-01-01"

business_days = DailyPartitionsDefinition(start_date=FIRST_BUSINESS_DAY, timezone=ENTITY_TIME_ZONE, end_offset=0)

# The run tags Dagster reads for a run over a range of partitions (a single-run backfill).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


class BusinessDayError(ValueError):
    """A day or range the business-day partitions do not have."""


def last_closed_business_day(now: datetime | None = None) -> date:
    """The newest partition: the business day that ended last in the entity's time zone (yesterday there)."""
    now = (now or datetime.now(ZoneInfo(ENTITY_TIME_ZONE))).astimezone(ZoneInfo(ENTITY_TIME_ZONE))
    return now.date() - timedelta(days=1)


def business_days_between(first: date, last: date, now: datetime | None = None) -> list[str]:
    """The partition keys from `first` to `last`, both included, in order. Refuses a reversed range,
    a day before the first partition and a day that has not ended yet (it has no partition)."""
    if last < first:
        raise BusinessDayError(f"the range ends ({last}) before it starts ({first})")
    if first < date.fromisoformat(FIRST_BUSINESS_DAY):
        raise BusinessDayError(f"{first} is before the first business day, {FIRST_BUSINESS_DAY}")
    newest = last_closed_business_day(now)
    if last > newest:
        raise BusinessDayError(f"{last} has not ended yet in {ENTITY_TIME_ZONE}: the last closed business day "
                               f"is {newest}")
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def range_tags(first: str, last: str) -> dict[str, str]:
    """Tags that make one run cover the partitions first..last (assets with a single-run backfill policy)."""
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}


def business_days_of_run(tags) -> str | None:
    """The business day or range a run covers, from its tags ("2026-11-02", "2026-11-02..2026-11-15"), if any."""
    if tags.get("dagster/partition"):
        return tags["dagster/partition"]
    first, last = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    return (first if first == last else f"{first}..{last}") if first and last else None
