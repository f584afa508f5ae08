from connectors.marketplace import raw_tables
from orchestration.source_definitions import InboxSource, inbox_source_definitions

# One inbox folder per marketplace mapping file (connectors/marketplace/mappings/<name>.yaml).
defs = inbox_source_definitions(InboxSource(
    name="marketplace_settlements", raw=raw_tables, group="marketplace", folders=raw_tables.source_modules(),
    description="Regional marketplaces' daily settlement and fee files, dropped in marketplace_<name>/ folders and "
                "read through each marketplace's mapping file."))
