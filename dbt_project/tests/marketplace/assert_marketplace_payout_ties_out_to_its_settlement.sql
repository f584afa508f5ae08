-- A settlement's payout takes out of the marketplace's balance exactly what its other events put in: Σ net
-- of every event of the settlement, payout included, is 0. (A settlement with a row quarantined at load
-- does not tie out until the row is fixed and replayed: it is listed here only when nothing is quarantined.)
with

events as (

    select
        line_events.channel_id,
        line_events.settlement_id,
        sum(line_events.net_amount) as balance,
        sum(case when line_events.line_type = 'payout' then 1 else 0 end) as payouts

    from {{ ref('int_marketplace__settlement_line_events') }} as line_events
    group by line_events.channel_id, line_events.settlement_id

),

quarantined as (

    select count(*) as rows_quarantined
    from {{ ref('stg_marketplace__quarantine') }}
    where stream = 'settlement_lines'

)

select
    events.channel_id,
    events.settlement_id,
    events.balance

from events
cross join quarantined
where events.payouts = 1
    and events.balance <> 0
    and quarantined.rows_quarantined = 0
