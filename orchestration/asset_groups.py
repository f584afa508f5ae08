"""The groups of the asset graph in the UI: ingestion per channel, canonical, finance, inventory, posting,
configuration."""


def ingestion_group(channel: str) -> str:
    """The group of a channel's landing and raw assets; its dbt staging models join it."""
    return f"ingestion_{channel}"
