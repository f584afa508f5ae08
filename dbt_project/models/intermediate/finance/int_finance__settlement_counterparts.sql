{#- What a settlement line can pay for, per provider (seeds/settlement_providers): a payment event of
    marts.payments for a PSP, or an order of the marketplace's channel, whose settlement report is itself
    the payment record. kind is the line_type that settles it. -#}
with

providers as (

    select * from {{ ref('settlement_providers') }}

),

payment_events as (

    select
        payments.provider,
        payments.payment_id as counterpart_id,
        case payments.event_type
            when 'capture' then 'sale'
            else payments.event_type
        end as kind,
        case providers.reference_field
            when 'payment_id' then payments.payment_id
            else payments.provider_reference
        end as reference,
        payments.order_id,
        payments.gross_amount as amount,
        payments.currency,
        payments.business_date

    from {{ ref('payments') }} as payments
    inner join providers
        on payments.provider = providers.provider
        and providers.counterpart = 'payment'
    where payments.event_type in ('capture', 'sale', 'refund', 'chargeback', 'chargeback_reversal')

),

order_sales as (

    select
        providers.provider,
        orders.order_id as counterpart_id,
        'sale' as kind,
        orders.order_id as reference,
        orders.order_id,
        orders.order_total as amount,
        orders.currency,
        orders.business_date

    from {{ ref('orders') }} as orders
    inner join providers
        on orders.channel_id = providers.channel_id
        and providers.counterpart = 'order'

),

order_refunds as (

    select
        providers.provider,
        orders.order_id as counterpart_id,
        'refund' as kind,
        orders.order_id as reference,
        orders.order_id,
        -orders.refunded_total as amount,
        orders.currency,
        orders.business_date

    from {{ ref('orders') }} as orders
    inner join providers
        on orders.channel_id = providers.channel_id
        and providers.counterpart = 'order'
    where orders.refunded_total > 0

),

counterparts as (

    select * from payment_events
    union all
    select * from order_sales
    union all
    select * from order_refunds

)

select
    -- An order is the counterpart of both its sale and its refunds: the kind is part of the key.
    provider || ':' || kind || ':' || counterpart_id as counterpart_key,
    counterparts.*

from counterparts
