"""Dagster definitions that wire connectors, raw loads, dbt models and exports together."""
