-- Amazon settlement reports as canonical payment events (provider amazon, tender marketplace): one event
-- per order transaction (sale, refund, ...), one per other-transaction row (fee or adjustment), built in
-- int_amazon__settlement_row_events; and one payout per settlement, the transfer of its stated total to the
-- seller's bank, signed as money leaving Amazon's balance (a positive total is a negative payout gross; a
-- negative total, charged to the seller, a positive one). The fee of an event is what Amazon keeps: its
-- commissions and the tax it withholds as marketplace facilitator (a refund's fee is negative when Amazon
-- gives commission back), so net_amount is what the event adds to the settlement.
with

row_events as (

    select * from {{ ref('int_amazon__settlement_row_events') }}

),

sales_channel as (

    select * from {{ ref('int_amazon__sales_channel') }}

),

transaction_events as (

    select
        payment_id,
        min(provider_reference) as provider_reference,
        min(order_id) as order_id,
        min(event_type) as event_type,
        sum(gross_amount) as gross_amount,
        sum(amount) as net_amount,
        min(currency) as currency,
        min(posted_at) as posted_at,
        min(posted_date) as posted_date

    from row_events
    group by payment_id

),

settlements as (

    select
        settlement_id,
        min(settlement_total_amount) as settlement_total_amount,
        min(currency) as currency,
        min(coalesce(deposit_at, settlement_end_at)) as deposit_at

    from row_events
    group by settlement_id

),

payout_events as (

    select
        settlement_id || ':payout' as payment_id,
        settlement_id as provider_reference,
        cast(null as varchar) as order_id,
        'payout' as event_type,
        -settlement_total_amount as gross_amount,
        -settlement_total_amount as net_amount,
        currency,
        deposit_at as posted_at,
        cast(null as date) as posted_date

    from settlements
    where settlement_total_amount <> 0

),

events as (

    select * from transaction_events
    union all
    select * from payout_events

)

select
    events.payment_id,
    'amazon' as provider,
    events.provider_reference,
    sales_channel.channel_id,
    events.order_id,
    events.event_type,
    'marketplace' as tender_type,
    {{ as_money('events.gross_amount') }} as gross_amount,
    {{ as_money('events.gross_amount - events.net_amount') }} as fee_amount,
    {{ as_money('events.net_amount') }} as net_amount,
    events.currency,
    coalesce(events.posted_at, cast(events.posted_date as timestamp) at time zone 'UTC') as occurred_at,
    -- A bare posted-date is the report's own date; an instant is dated in the entity's zone.
    coalesce(
        {{ local_date('events.posted_at', 'sales_channel.time_zone') }},
        events.posted_date
    ) as business_date,
    case
        when events.order_id is not null then sales_channel.channel_id || ':order:' || events.order_id
        else 'amazon:payment:' || events.payment_id
    end as correlation_id

from events
cross join sales_channel
