"""Freshness of the finance marts: finance starts its day on the close's figures, so the UI says when they are stale.

The marts of dbt_project/models/marts/finance (settlement lines, payouts, matches, exceptions, posting batches,
journal lines and their sources) must have been rebuilt between the close (05:00, schedules.py) and 08:00 New
York time every day; otherwise they show as failing their freshness policy on the asset's page and in the
asset health of the UI until the next successful build. Dagster's freshness daemon evaluates the policy (on
by default in Dagster 1.13: `freshness: enabled` in dagster.yaml).

The policy is applied to the specs of the dbt asset in the merged definitions (orchestration/definitions.py),
so the dbt asset's own module stays about building dbt.
"""
import warnings
from datetime import timedelta

from dagster import AssetSpec, Definitions, FreshnessPolicy, PreviewWarning, apply_freshness_policy

from orchestration.defs.automation.schedules import CLOSE_HOUR
from orchestration.partitions import ENTITY_TIME_ZONE

# When finance starts working the exception queue and takes the posting batches.
FINANCE_DEADLINE_HOUR = 8

# The models under models/marts/finance: the journals are grouped "posting", the rest "finance".
FINANCE_MART_GROUPS = ("finance", "posting")

FINANCE_MARTS_FRESHNESS = FreshnessPolicy.cron(
    deadline_cron=f"0 {FINANCE_DEADLINE_HOUR} * * *",
    lower_bound_delta=timedelta(hours=FINANCE_DEADLINE_HOUR - CLOSE_HOUR),  # built by this night's close, not before
    timezone=ENTITY_TIME_ZONE,
)


def is_finance_mart(spec: AssetSpec) -> bool:
    return spec.key.path[0] == "marts" and spec.group_name in FINANCE_MART_GROUPS


def with_finance_mart_freshness(defs: Definitions) -> Definitions:
    """`defs` with the finance marts' freshness policy on their asset specs."""
    # map_asset_specs is "preview" in Dagster 1.13 and warns on every load of the code location; the
    # automation tests assert the policy lands on exactly the finance marts, so a change in it fails there.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return defs.map_asset_specs(
            func=lambda spec: apply_freshness_policy(spec, FINANCE_MARTS_FRESHNESS) if is_finance_mart(spec) else spec)
