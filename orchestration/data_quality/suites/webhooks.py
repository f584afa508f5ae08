"""raw_webhooks: Shopify, Stripe and Adyen webhook events, one row per stored event."""
from connectors.webhooks import raw_tables
from orchestration.data_quality.expectations import in_set, matches, not_null
from orchestration.data_quality.suites import SourceSuite

SUITE = SourceSuite(raw=raw_tables, tables={
    "events": [
        *not_null("vendor", "event_id", "topic", "received_at", "payload"),
        in_set("vendor", ("shopify", "stripe", "adyen"), "webhook vendor"),
        matches("payload", r"^\s*[\[{]", "a JSON document"),
    ],
}, freshness_columns={"events": "received_at"})  # when the receiver stored the newest event
