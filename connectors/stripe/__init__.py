"""Stripe: API client, pydantic models, raw-table flattening and payout reconciliation report parsing."""
