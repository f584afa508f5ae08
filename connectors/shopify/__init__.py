"""Shopify Admin REST API (orders, transactions, refunds, Shopify Payments payouts)."""
