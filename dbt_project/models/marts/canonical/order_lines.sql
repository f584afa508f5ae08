-- Every channel's order lines (int_<channel>__order_lines), keyed across channels, with their
-- order's location and business date.
with

lines as (

    {{ union_contributors('order_lines') }}

),

orders as (

    select order_key, location_id, business_date from {{ ref('orders') }}

)

select
    lines.channel_id || ':' || lines.order_line_id as order_line_key,
    lines.channel_id || ':' || lines.order_id as order_key,
    lines.order_line_id,
    lines.order_id,
    lines.channel_id,
    orders.location_id,
    orders.business_date,
    lines.sku,
    lines.quantity,
    lines.unit_price,
    lines.gross_amount,
    lines.discount_amount,
    lines.tax_amount,
    lines.net_amount,
    lines.currency,
    lines.correlation_id

from lines
left join orders
    on orders.order_key = lines.channel_id || ':' || lines.order_id
