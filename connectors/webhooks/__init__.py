"""Webhooks: signed vendor deliveries received, stored exactly once, and loaded into raw_webhooks."""
