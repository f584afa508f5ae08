"""Adyen: settlement details report files (the Adyen API client and webhooks live elsewhere)."""
