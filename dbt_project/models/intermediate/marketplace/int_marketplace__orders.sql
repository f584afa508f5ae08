-- Marketplace orders from the sale lines of the settlement files, grouped by order id. No discounts,
-- shipping or tax reach the seller (the marketplace charges and remits them; the shipping label is a fee
-- on the payment), so order_total is the items sold. Refunds come from the refund lines. The files name
-- no buyer: customer_key is null.
with

line_events as (

    select * from {{ ref('int_marketplace__settlement_line_events') }}
    where order_id is not null

),

sales_channels as (

    select * from {{ ref('int_marketplace__sales_channels') }}

),

sales as (

    select
        channel_id,
        order_id,
        min(occurred_at) as ordered_at,
        min(business_date) as business_date,
        min(currency) as currency,
        sum(amount) as gross_sales

    from line_events
    where line_type = 'sale'
    group by channel_id, order_id

),

refunds as (

    select
        channel_id,
        order_id,
        -sum(amount) as refunded_total

    from line_events
    where line_type = 'refund'
    group by channel_id, order_id

)

select
    sales.order_id,
    sales.channel_id,
    sales.order_id as order_number,
    sales_channels.legal_entity_id,
    -- The marketplace's orders ship from the 3PL's warehouse.
    '{{ var("marketplace_fulfilment_location", "WH-NJ") }}' as location_id,
    cast(null as varchar) as customer_key,
    sales.ordered_at,
    sales.business_date,
    sales.currency,
    {{ as_money('sales.gross_sales') }} as gross_sales,
    {{ as_money('0') }} as discount_total,
    {{ as_money('0') }} as shipping_total,
    {{ as_money('0') }} as tax_total,
    {{ as_money('0') }} as tip_total,
    {{ as_money('sales.gross_sales') }} as order_total,
    {{ as_money('coalesce(refunds.refunded_total, 0)') }} as refunded_total,
    case
        when coalesce(refunds.refunded_total, 0) > 0 and refunds.refunded_total >= sales.gross_sales then 'refunded'
        when coalesce(refunds.refunded_total, 0) > 0 then 'partially_refunded'
        else 'paid'
    end as financial_status,
    sales.channel_id || ':order:' || sales.order_id as correlation_id

from sales
inner join sales_channels
    on sales.channel_id = sales_channels.channel_id
left join refunds
    on sales.channel_id = refunds.channel_id
    and sales.order_id = refunds.order_id
