from dagster import Definitions

from orchestration.defs.adyen.assets import adyen_settlement_details, adyen_settlements_inbox, adyen_settlements_load

defs = Definitions(assets=[adyen_settlement_details], jobs=[adyen_settlements_load], sensors=[adyen_settlements_inbox])
