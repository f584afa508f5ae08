-- The provider's stated payout amount should equal the net of its lines. A payout that does not
-- tie out produces an unbalanced posting batch; the blocking gate on that lives in Dagster, so
-- here it only warns (the marts still build and show the problem).
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'settlement_lines'}}}) }}

with

line_totals as (

    select payout_id, sum(net_amount) as lines_net
    from {{ ref('settlement_lines') }}
    group by payout_id

)

select
    payouts.payout_id,
    payouts.amount as stated_amount,
    coalesce(line_totals.lines_net, 0) as lines_net
from {{ ref('stg_shopify__payouts') }} as payouts
left join line_totals
    on payouts.payout_id = line_totals.payout_id
where payouts.amount <> coalesce(line_totals.lines_net, 0)
