"""raw_bank: bank statement lines (CSV exports and camt.053 files)."""
from connectors.bank import raw_tables
from orchestration.data_quality.expectations import bounded, currency_codes, in_set, non_negative, not_null
from orchestration.data_quality.suites import SourceSuite

SUITE = SourceSuite(raw=raw_tables, tables={
    "statement_lines": [
        *not_null("account_id", "statement_id", "statement_date", "entry_reference", "booking_date", "amount",
                  "currency", "credit_debit"),
        in_set("credit_debit", ("CRDT", "DBIT"), "camt.053 CreditDebitIndicator"),
        in_set("file_format", ("csv", "camt053"), "statement file format"),
        *non_negative("line_number"),
        *bounded("amount", "running_balance", "opening_balance", "closing_balance", limit=10_000_000_000),
        *currency_codes("currency"),
    ],
})
