-- Amazon settlements in the payouts contract (marts/finance payouts): the total-amount of a report's summary
-- row, which Amazon transfers to the bank on its deposit date. Every row of a report repeats the summary, so
-- a settlement is known once one of its rows loads.
with

settlement_rows as (

    select * from {{ ref('stg_amazon__settlement_report_rows') }}

),

sales_channel as (

    select * from {{ ref('int_amazon__sales_channel') }}

),

settlements as (

    select
        settlement_id,
        min(settlement_total_amount) as settlement_total_amount,
        min(currency) as currency,
        -- A report without a deposit date (a period Amazon has not paid yet) is dated by its period's end.
        min(coalesce(deposit_at, settlement_end_at)) as deposit_at

    from settlement_rows
    group by settlement_id

)

select
    'amazon' as provider,
    {{ id_text('settlements.settlement_id') }} as payout_id,
    -- A closed report means Amazon has initiated the transfer; the report never says more.
    'paid' as payout_status,
    {{ local_date('settlements.deposit_at', 'sales_channel.time_zone') }} as payout_date,
    {{ as_money('settlements.settlement_total_amount') }} as stated_amount,
    settlements.currency

from settlements
cross join sales_channel
