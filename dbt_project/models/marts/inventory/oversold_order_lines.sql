-- Oversells: order lines a channel accepted for a SKU whose ATS for that channel was zero when the previous
-- business day closed (what the channel had last been told). Only channels omnirecon publishes to are judged;
-- the first day of the history, with no day before it, is not.
with

orders as (

    select * from {{ ref('orders') }}
    where financial_status <> 'voided'

),

order_lines as (

    select * from {{ ref('order_lines') }}

),

network_ats as (

    select * from {{ ref('available_to_sell_by_channel') }}
    where publish_to is not null

),

sold as (

    select
        order_lines.channel_id,
        order_lines.order_id,
        order_lines.sku,
        orders.business_date,
        orders.ordered_at,
        sum(order_lines.quantity) as quantity

    from order_lines
    inner join orders
        on orders.order_key = order_lines.order_key
    group by order_lines.channel_id, order_lines.order_id, order_lines.sku, orders.business_date, orders.ordered_at

)

select
    sold.channel_id || ':' || sold.order_id || ':' || sold.sku as oversold_order_line_id,
    'oversold' as reason_code,
    sold.channel_id,
    sold.order_id,
    sold.sku,
    cast(sold.quantity as integer) as quantity,
    sold.ordered_at,
    sold.business_date,
    network_ats.business_date as ats_business_date,
    network_ats.available_to_sell as ats_before_order

from sold
inner join network_ats
    on network_ats.channel_id = sold.channel_id
    and network_ats.sku = sold.sku
    and network_ats.business_date + 1 = sold.business_date
where network_ats.available_to_sell = 0
