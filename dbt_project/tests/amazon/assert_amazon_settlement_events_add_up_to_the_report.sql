-- The payment events of a settlement add up to the report's rows that parsed: Σ net of its non-payout events =
-- Σ its staged row amounts. (The report's stated total can differ only by rows quarantined at load.)
with

events as (

    select
        split_part(payment_id, ':', 1) as settlement_id,
        sum(net_amount) as events_net

    from {{ ref('int_amazon__payments') }}
    where event_type <> 'payout'
    group by 1

),

report_rows as (

    select settlement_id, sum(amount) as rows_total
    from {{ ref('stg_amazon__settlement_report_rows') }}
    group by settlement_id

)

select
    report_rows.settlement_id,
    report_rows.rows_total,
    events.events_net

from report_rows
left join events
    on report_rows.settlement_id = events.settlement_id
where events.events_net is null
    or events.events_net <> report_rows.rows_total
