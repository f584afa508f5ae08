-- Every store ticket's total is its components, exactly, and agrees with Square: order_total =
-- gross_sales - discount_total + shipping_total + tax_total; gross_sales, discount_total and tax_total
-- are the sums of its lines; and order_total is Square's total_money less the tips (tips are not sales).
with

orders as (

    select * from {{ ref('int_pos__orders') }}

),

lines as (

    select
        order_id,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(tax_amount) as tax_amount,
        sum(net_amount) as net_amount

    from {{ ref('int_pos__order_lines') }}
    group by order_id

),

square_orders as (

    select order_id, total_amount, tip_amount from {{ ref('stg_square__orders') }}

)

select
    orders.order_id,
    orders.order_total,
    lines.net_amount,
    square_orders.total_amount,
    square_orders.tip_amount

from orders
left join lines
    on orders.order_id = lines.order_id
left join square_orders
    on orders.order_id = square_orders.order_id
where orders.order_total <> orders.gross_sales - orders.discount_total + orders.shipping_total + orders.tax_total
    or lines.order_id is null
    or orders.gross_sales <> lines.gross_amount
    or orders.discount_total <> lines.discount_amount
    or orders.tax_total <> lines.tax_amount
    or orders.order_total <> lines.net_amount
    or orders.order_total <> square_orders.total_amount - coalesce(square_orders.tip_amount, 0)
