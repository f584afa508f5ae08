"""raw_marketplace: every marketplace's settlement files, mapped to one layout by its mapping file."""
from connectors.marketplace import raw_tables
from connectors.marketplace.settlement_file import LINE_TYPES
from orchestration.data_quality.expectations import bounded, currency_codes, in_set, non_negative, not_null
from orchestration.data_quality.suites import SourceSuite

SUITE = SourceSuite(raw=raw_tables, tables={
    "settlement_lines": [
        *not_null("marketplace", "settlement_id", "line_number", "line_type", "amount", "currency", "posted_date"),
        in_set("line_type", LINE_TYPES, "marketplace line type (the mapping's canonical types)"),
        *non_negative("line_number", "quantity"),
        *bounded("amount", "fee", limit=1_000_000_000),
        *currency_codes("currency"),
    ],
})
