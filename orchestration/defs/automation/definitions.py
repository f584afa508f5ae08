"""Automation across the domains: the close after the night's pulls, and an alert when a run fails.

The finance marts' freshness policy is applied to the merged definitions (it maps the dbt asset's specs):
orchestration/definitions.py calls with_finance_mart_freshness.
"""
from dagster import Definitions

from orchestration.defs.automation.alerts import run_failure_alert
from orchestration.defs.automation.freshness import with_finance_mart_freshness
from orchestration.defs.automation.schedules import reconciliation_build_schedule

defs = Definitions(schedules=[reconciliation_build_schedule], sensors=[run_failure_alert])

__all__ = ["defs", "with_finance_mart_freshness"]
