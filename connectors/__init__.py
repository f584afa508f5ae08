"""Channel connectors: HTTP clients, vendor payload models and file parsers. No Dagster here."""
