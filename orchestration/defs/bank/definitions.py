from connectors.bank import raw_tables
from orchestration.source_definitions import InboxSource, inbox_source_definitions

defs = inbox_source_definitions(InboxSource(
    name="bank_statements", raw=raw_tables, group="bank",
    description="Bank statement exports (CSV, or ISO 20022 camt.053 XML) with the payout deposits."))
