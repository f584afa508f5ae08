"""How assets show tables in the Dagster UI: markdown in their run metadata."""
from dagster import MetadataValue


def md_table(header: list[str], rows: list, empty: str) -> MetadataValue:
    """A markdown table of `rows` under `header`, or `empty` when there is nothing to show."""
    if not rows:
        return MetadataValue.md(empty)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(value) for value in row) + " |" for row in rows]
    return MetadataValue.md("\n".join(lines))
