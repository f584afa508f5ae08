"""A failed run tells someone: run_failure_alert POSTs a JSON notification to a webhook.

The webhook URL comes from OMNIRECON_ALERT_WEBHOOK_URL (a Slack or Teams incoming webhook, or any endpoint
that takes JSON). Unset, the sensor still runs and each failed run's tick says that no alert was sent, so the
UI shows why nobody was told. The URL is a secret: Slack's carries its token in the path, others in the query
string, so logs and errors name only the webhook's scheme and host.

The notification:

    {"text": "...one line for a chat channel...", "job": "square_daily_pull", "run_id": "...",
     "partition": "2026-11-02" (null for an unpartitioned job), "business_day": "2026-11-02" (the partition,
     or the day a close closes), "error": "landing__square: ...", "run_path": "/runs/<run id>"}

`run_path` is the run's page in the Dagster UI, relative to wherever the UI is served.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests
from dagster import DefaultSensorStatus, EnvVar, RunFailureSensorContext, SkipReason, run_failure_sensor

from orchestration.defs.automation.schedules import BUSINESS_DAY_TAG

ALERT_WEBHOOK_URL = EnvVar("OMNIRECON_ALERT_WEBHOOK_URL")
TIMEOUT_SECONDS = 10.0
ATTEMPTS = 3
BACKOFF_SECONDS = 2.0  # then 4: a webhook that is down for longer fails the sensor's tick, visible in the UI
ERROR_CHARS = 2000  # a chat message, not a log: the full stack trace is on the run's page


class AlertNotDelivered(Exception):
    """The webhook did not take the alert; the message names its host only, never the URL's path or query."""


def webhook_host(url: str) -> str:
    """What logs may say about a webhook: scheme, host and port, without credentials, path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def is_retryable(status: int) -> bool:
    return status == 429 or status >= 500


def post_alert(url: str, payload: dict, *, timeout: float = TIMEOUT_SECONDS, attempts: int = ATTEMPTS,
               backoff_seconds: float = BACKOFF_SECONDS) -> int:
    """POST `payload` as JSON; returns the attempts it took. Connection errors, timeouts, 429 and 5xx are tried
    again with backoff; any other answer is final. Raises AlertNotDelivered when the webhook never took it."""
    problem = "no attempt"
    for attempt in range(1, attempts + 1):
        try:
            # No redirects: the alert goes to the configured host only.
            response = requests.post(url, json=payload, timeout=timeout, allow_redirects=False)
        except requests.RequestException as error:
            # requests' messages quote the URL: keep only the kind of failure.
            problem = type(error).__name__
        else:
            if 200 <= response.status_code < 300:
                return attempt
            problem = f"HTTP {response.status_code}"
            if not is_retryable(response.status_code):
                break
        if attempt < attempts:
            time.sleep(backoff_seconds * 2 ** (attempt - 1))
    # Raised outside the except block, so no requests exception (and its URL) is chained to it.
    raise AlertNotDelivered(f"alert to {webhook_host(url)} not delivered after {attempt} attempt(s): {problem}")


def _root_cause(error):
    """Dagster wraps what the code raised ("Error occurred while executing op ..."): the innermost cause says why."""
    while error.cause is not None:
        error = error.cause
    return error


def _error(context: RunFailureSensorContext) -> str:
    """What failed: each failed step with its error's message, else the run's own failure message."""
    steps = [f"{event.step_key}: {_root_cause(event.step_failure_data.error).message.strip()}"
             for event in context.get_step_failure_events()
             if event.step_failure_data.error is not None]
    text = "\n".join(steps) or context.failure_event.message or "the run failed"
    return text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS - 1] + "…"


def failure_notification(context: RunFailureSensorContext) -> dict:
    run = context.dagster_run
    partition = run.tags.get("dagster/partition")
    business_day = partition or run.tags.get(BUSINESS_DAY_TAG)
    error = _error(context)
    return {
        "text": f"omnirecon: {run.job_name} failed" + (f" for {business_day}" if business_day else "")
                + f": {error.splitlines()[0]} (run {run.run_id[:8]}, /runs/{run.run_id})",
        "job": run.job_name,
        "run_id": run.run_id,
        "partition": partition,
        "business_day": business_day,
        "error": error,
        "run_path": f"/runs/{run.run_id}",
    }


@run_failure_sensor(name="run_failure_alert", default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=30,
                    description="POSTs a JSON notification (job, run, partition, error, link) to "
                                "OMNIRECON_ALERT_WEBHOOK_URL when a run of this code location fails.")
def run_failure_alert(context: RunFailureSensorContext):
    run = context.dagster_run
    url = ALERT_WEBHOOK_URL.get_value()
    if not url:
        return SkipReason(f"OMNIRECON_ALERT_WEBHOOK_URL is not set: no alert sent for the failed "
                          f"{run.job_name} run {run.run_id}")
    attempts = post_alert(url, failure_notification(context))
    context.log.info(f"alerted {webhook_host(url)} that {run.job_name} run {run.run_id} failed "
                     f"({attempts} attempt{'s' if attempts > 1 else ''})")
    return None  # processed: the sensor goes on with the next failed run in the same tick
