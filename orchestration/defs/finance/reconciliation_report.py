"""What finance looks at after each build: match rate, what is left unmatched, exceptions by reason."""
from dagster import AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.reconciliation_summary import summarize
from orchestration.resources import WarehouseResource

SETTLEMENT_MATCHES = AssetKey(["marts", "settlement_matches"])
RECONCILIATION_EXCEPTIONS = AssetKey(["marts", "reconciliation_exceptions"])

OPEN_AMOUNTS_SQL = """
select reason_code, currency, count(*), sum(amount)
from marts.reconciliation_exceptions
group by reason_code, currency
order by reason_code, currency
"""


@asset(key=AssetKey(["reports", "reconciliation_summary"]), deps=[SETTLEMENT_MATCHES, RECONCILIATION_EXCEPTIONS],
       group_name="finance", description="Auto-match rate and the exception queue by reason, as run metadata.")
def reconciliation_summary(warehouse: WarehouseResource) -> MaterializeResult:
    with warehouse.connect() as wh:
        summary = summarize(wh)
        by_reason = wh.fetchall(OPEN_AMOUNTS_SQL)
    lines = summary["settlement_lines"]
    to_match = lines["total"] - lines["no_match_needed"]
    rate = lines["matched"] / to_match if to_match else 1.0
    table = "\n".join(f"| {reason} | {currency} | {count} | {amount:.2f} |" for reason, currency, count, amount in by_reason)
    return MaterializeResult(metadata={
        "auto_match_rate": MetadataValue.float(round(rate, 4)),
        "settlement_lines": lines["total"],
        "matched": lines["matched"],
        "unmatched": lines["unmatched"],
        "open_exceptions": sum(summary["exceptions_by_reason"].values()),
        "exceptions_by_reason": MetadataValue.md(
            "| reason | currency | count | amount |\n|---|---|---|---|\n" + table if table else "no open exceptions"),
    })
