-- Shopify order lines in the canonical shape. Shopify has already allocated order-level discounts
-- to the lines (discount_allocations); a tax-inclusive shop's prices are brought to tax-exclusive.
with

lines as (

    select * from {{ ref('stg_shopify__order_line_items') }}

),

orders as (

    select order_id, currency, is_tax_inclusive from {{ ref('stg_shopify__orders') }}

),

sales_channel as (

    select * from {{ ref('int_shopify__sales_channel') }}

),

tax_exclusive as (

    select
        lines.*,
        orders.currency,
        case
            when orders.is_tax_inclusive then lines.unit_price * lines.quantity - coalesce(lines.tax_amount, 0)
            else lines.unit_price * lines.quantity
        end as gross_amount

    from lines
    inner join orders
        on lines.order_id = orders.order_id

)

select
    tax_exclusive.order_line_id,
    tax_exclusive.order_id,
    sales_channel.channel_id,
    tax_exclusive.sku,
    tax_exclusive.quantity,
    {{ as_money('tax_exclusive.gross_amount / tax_exclusive.quantity') }} as unit_price,
    {{ as_money('tax_exclusive.gross_amount') }} as gross_amount,
    {{ as_money('coalesce(tax_exclusive.discount_amount, 0)') }} as discount_amount,
    {{ as_money('coalesce(tax_exclusive.tax_amount, 0)') }} as tax_amount,
    {{ as_money('tax_exclusive.gross_amount - coalesce(tax_exclusive.discount_amount, 0)
                 + coalesce(tax_exclusive.tax_amount, 0)') }} as net_amount,
    tax_exclusive.currency,
    sales_channel.channel_id || ':order:' || tax_exclusive.order_id as correlation_id

from tax_exclusive
cross join sales_channel
