-- Every Amazon order's total is its components exactly, its gross sales the sum of its lines, and where
-- Amazon states an OrderTotal (not for a cancelled order) the canonical total equals it.
with

orders as (

    select * from {{ ref('int_amazon__orders') }}

),

line_totals as (

    select order_id, sum(gross_amount) as gross_sales
    from {{ ref('int_amazon__order_lines') }}
    group by order_id

),

stated as (

    select order_id, order_total_amount from {{ ref('stg_amazon__orders') }}

)

select
    orders.order_id,
    orders.order_total,
    orders.gross_sales,
    line_totals.gross_sales as line_gross_sales,
    stated.order_total_amount as amazon_order_total

from orders
left join line_totals
    on orders.order_id = line_totals.order_id
left join stated
    on orders.order_id = stated.order_id
where orders.order_total
        <> orders.gross_sales - orders.discount_total + orders.shipping_total + orders.tax_total
    or orders.gross_sales <> coalesce(line_totals.gross_sales, 0)
    or (stated.order_total_amount is not null and stated.order_total_amount <> orders.order_total)
