-- Shown in Dagster as a check on settlement_lines.
{{ config(meta={'dagster': {'ref': {'name': 'settlement_lines'}}}) }}
-- Conservation: every balance transaction the provider sent (except the payout itself) is a
-- settlement line; nothing is lost between raw and the finance marts.
select distinct cast(raw.id as varchar) as balance_transaction_id
from {{ source('shopify', 'balance_transactions') }} as raw
where lower(raw."type") <> 'payout'
    and not exists (
        select 1 from {{ ref('settlement_lines') }} as lines
        where lines.settlement_line_id = cast(raw.id as varchar)
    )
