"""raw_erp: the ERP's reference data (items, legal entities, locations, GL accounts)."""
from typing import get_args

from connectors.erp import raw_tables
from connectors.erp.models import AccountType
from orchestration.data_quality.expectations import between, currency_codes, in_set, not_null
from orchestration.data_quality.suites import SourceSuite

SUITE = SourceSuite(raw=raw_tables, tables={
    "items": [
        *not_null("sku", "unit_cost", "cost_currency"),
        between("unit_cost", 0, 1_000_000, meta="a unit cost is positive and sane"),
        *currency_codes("cost_currency"),
    ],
    "legal_entities": [
        *not_null("legal_entity_id", "name", "functional_currency", "time_zone"),
        *currency_codes("functional_currency"),
    ],
    "locations": [
        *not_null("code", "name", "kind", "time_zone", "legal_entity_id"),
        in_set("kind", ("store", "warehouse"), "ERP location kind"),
    ],
    "gl_accounts": [
        *not_null("account_code", "name", "account_type"),
        in_set("account_type", get_args(AccountType), "ERP account type"),
    ],
})
