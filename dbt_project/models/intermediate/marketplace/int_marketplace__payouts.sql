-- Marketplace payouts in the payouts contract (marts/finance payouts): a settlement file's Disbursement row states
-- what the marketplace transfers for the settlement. The file is the record that it is paid; the money reaches
-- the bank var marketplace_payout_value_days after the settlement's date (Bazaarly: the next day).
with

line_events as (

    select * from {{ ref('int_marketplace__settlement_line_events') }}
    where line_type = 'payout'

)

select
    channel_id as provider,
    cast(settlement_id as varchar) as payout_id,
    'paid' as payout_status,
    cast(business_date + {{ var('marketplace_payout_value_days', 1) }} as date) as payout_date,
    {{ as_money('amount') }} as stated_amount,
    currency

from line_events
