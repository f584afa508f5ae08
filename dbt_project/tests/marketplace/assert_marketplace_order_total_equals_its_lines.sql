-- Every marketplace order's total is its components exactly, and its gross sales the sum of its lines.
with

line_totals as (

    select channel_id, order_id, sum(gross_amount) as gross_sales, sum(net_amount) as net_sales
    from {{ ref('int_marketplace__order_lines') }}
    group by channel_id, order_id

)

select
    orders.channel_id,
    orders.order_id,
    orders.order_total,
    line_totals.gross_sales as line_gross_sales

from {{ ref('int_marketplace__orders') }} as orders
left join line_totals
    on orders.channel_id = line_totals.channel_id
    and orders.order_id = line_totals.order_id
where orders.order_total
        <> orders.gross_sales - orders.discount_total + orders.shipping_total + orders.tax_total
    or orders.gross_sales <> coalesce(line_totals.gross_sales, 0)
