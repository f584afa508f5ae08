-- The stores' payment events in the canonical shape (marts/canonical/_canonical__models.yml): one per
-- completed Square payment (a tender of a ticket) and one per completed Square refund.
-- Provider and tender: a card tender runs on Adyen's terminals, so Square records an EXTERNAL payment
-- whose external_source_id is the Adyen PSP reference (provider adyen, tender card, provider_reference
-- the PSP reference, which the Adyen settlement lines carry); cash is provider store_cash; a Square
-- gift card (a CARD payment of brand SQUARE_GIFT_CARD) is provider gift_card. Anything else is
-- 'unknown' and fails the accepted_values test rather than passing silently.
-- Signs: a payment is a 'sale' (the terminal authorises and captures at once) with gross = Square's
-- total_money, tip included (the customer paid it; it is not a sale of goods, see int_pos__orders);
-- a refund is a 'refund' with gross = -amount. Fees: Square charges none on external or cash
-- payments (Adyen's fees come with its settlement lines); a refund's fee arrives negative (given back).
-- order_id: the channel order the money belongs to: a tender's Square order; a linked refund's
-- original sale order (its payment's order); an unlinked refund of a web order returned in store,
-- the web order (channel_id shopify_web, from the return order's metadata).
with

payments as (

    select * from {{ ref('stg_square__payments') }}
    where payment_status = 'COMPLETED'

),

refunds as (

    select * from {{ ref('stg_square__refunds') }}
    where refund_status = 'COMPLETED'

),

all_payments as (

    select * from {{ ref('stg_square__payments') }}

),

return_orders as (

    select * from {{ ref('stg_square__orders') }}

),

stores as (

    select * from {{ ref('int_pos__store_locations') }}

),

sales as (

    select
        payments.payment_id,
        case
            when payments.source_type = 'EXTERNAL' and lower(payments.external_source) = 'adyen' then 'adyen'
            when payments.source_type = 'CASH' then 'store_cash'
            when payments.source_type = 'CARD' and payments.card_brand = 'SQUARE_GIFT_CARD' then 'gift_card'
            else 'unknown'
        end as provider,
        payments.external_source_id,
        'pos' as channel_id,
        payments.order_id,
        'sale' as event_type,
        payments.total_amount as gross_amount,
        coalesce(payments.processing_fee_amount, 0) as fee_amount,
        payments.currency,
        payments.created_at as occurred_at,
        payments.location_id

    from payments

),

refund_events as (

    select
        refunds.refund_id as payment_id,
        case
            when refunds.destination_type = 'EXTERNAL' and lower(refunds.external_source) = 'adyen' then 'adyen'
            when refunds.destination_type = 'CASH' then 'store_cash'
            when refunds.destination_type = 'CARD'
                and coalesce(refunded_payments.card_brand, 'SQUARE_GIFT_CARD') = 'SQUARE_GIFT_CARD' then 'gift_card'
            else 'unknown'
        end as provider,
        refunds.external_source_id,
        case
            when refunded_payments.order_id is not null then 'pos'
            else return_orders.returned_channel
        end as channel_id,
        coalesce(refunded_payments.order_id, return_orders.returned_order_id) as order_id,
        'refund' as event_type,
        -refunds.amount as gross_amount,
        coalesce(refunds.processing_fee_amount, 0) as fee_amount,
        refunds.currency,
        refunds.created_at as occurred_at,
        refunds.location_id

    from refunds
    left join all_payments as refunded_payments
        on refunds.payment_id = refunded_payments.payment_id
    left join return_orders
        on refunds.return_order_id = return_orders.order_id

),

events as (

    select * from sales
    union all
    select * from refund_events

)

select
    events.payment_id,
    events.provider,
    case when events.provider = 'adyen' then events.external_source_id else events.payment_id end
        as provider_reference,
    coalesce(events.channel_id, 'pos') as channel_id,
    events.order_id,
    events.event_type,
    case events.provider
        when 'adyen' then 'card'
        when 'store_cash' then 'cash'
        when 'gift_card' then 'gift_card'
        else 'other'
    end as tender_type,
    {{ as_money('events.gross_amount') }} as gross_amount,
    {{ as_money('events.fee_amount') }} as fee_amount,
    {{ as_money('events.gross_amount - events.fee_amount') }} as net_amount,
    events.currency,
    events.occurred_at,
    {{ local_date('events.occurred_at', 'stores.time_zone') }} as business_date,
    case
        when events.order_id is not null
            then coalesce(events.channel_id, 'pos') || ':order:' || events.order_id
        else events.provider || ':payment:' || events.payment_id
    end as correlation_id

from events
left join stores
    on events.location_id = stores.square_location_id
