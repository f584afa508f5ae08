-- Marketplace settlement lines as canonical payment events (provider = the channel, e.g.
-- marketplace_bazaarly; tender marketplace), grouped in int_marketplace__settlement_line_events: per order
-- and settlement a sale (gross = the items sold, fee = commission and shipping label) and a refund
-- (negative gross, a negative fee for the commission given back); advertising as fee events (gross 0),
-- adjustments, and the Disbursement as the payout (gross = -the amount transferred to the bank).
with

line_events as (

    select * from {{ ref('int_marketplace__settlement_line_events') }}

),

events as (

    select
        channel_id,
        payment_id,
        min(provider_reference) as provider_reference,
        min(order_id) as order_id,
        min(event_type) as event_type,
        sum(gross_amount) as gross_amount,
        sum(net_amount) as net_amount,
        min(currency) as currency,
        min(occurred_at) as occurred_at,
        min(business_date) as business_date

    from line_events
    group by channel_id, payment_id

)

select
    payment_id,
    channel_id as provider,
    provider_reference,
    channel_id,
    order_id,
    event_type,
    'marketplace' as tender_type,
    {{ as_money('gross_amount') }} as gross_amount,
    {{ as_money('gross_amount - net_amount') }} as fee_amount,
    {{ as_money('net_amount') }} as net_amount,
    currency,
    occurred_at,
    business_date,
    case
        when order_id is not null then channel_id || ':order:' || order_id
        else channel_id || ':payment:' || payment_id
    end as correlation_id

from events
