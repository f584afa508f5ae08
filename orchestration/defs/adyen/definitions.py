from connectors.adyen import settlement_details
from orchestration.source_definitions import InboxSource, inbox_source_definitions

defs = inbox_source_definitions(InboxSource(
    name="adyen_settlements", raw=settlement_details, group="adyen",
    description="Adyen settlement details reports dropped in the inbox (one per settlement batch)."))
