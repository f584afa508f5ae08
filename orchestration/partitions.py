"""Business-day partitions: a day is the legal entity's calendar day, not a UTC day."""
from dagster import DailyPartitionsDefinition

ENTITY_TIME_ZONE = "America/New_York"

business_days = DailyPartitionsDefinition(start_date="2025-01-01", timezone=ENTITY_TIME_ZONE, end_offset=0)
