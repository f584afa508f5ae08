-- Amazon order items as canonical order lines. order_line_id is Amazon's OrderItemId (unique across
-- orders), the id a settlement row's order-item-code names, so a refund links back to its line.
-- Amazon states ItemPrice, ItemTax and PromotionDiscount for the item's whole quantity: gross_amount is
-- ItemPrice as stated and unit_price is ItemPrice / quantity. Prices are tax-exclusive on Amazon.com.
with

items as (

    select * from {{ ref('stg_amazon__order_items') }}

),

orders as (

    select order_id, order_total_currency from {{ ref('stg_amazon__orders') }}

),

sales_channel as (

    select * from {{ ref('int_amazon__sales_channel') }}

),

amounts as (

    select
        items.order_item_id,
        items.order_id,
        items.sku,
        cast(items.quantity_ordered as integer) as quantity,
        {{ as_money('coalesce(items.item_price_amount, 0)') }} as gross_amount,
        -- A promotion on the item is its discount; shipping discounts belong to the order's shipping.
        {{ as_money('coalesce(items.promotion_discount_amount, 0)') }} as discount_amount,
        -- Tax on the item, less the tax on its promotion; shipping tax belongs to the order's shipping.
        {{ as_money('coalesce(items.item_tax_amount, 0) - coalesce(items.promotion_discount_tax_amount, 0)') }}
            as tax_amount,
        coalesce(items.currency, orders.order_total_currency) as currency

    from items
    left join orders
        on items.order_id = orders.order_id

)

select
    amounts.order_item_id as order_line_id,
    amounts.order_id,
    sales_channel.channel_id,
    amounts.sku,
    amounts.quantity,
    {{ amazon_unit_price('amounts.gross_amount', 'amounts.quantity') }} as unit_price,
    amounts.gross_amount,
    amounts.discount_amount,
    amounts.tax_amount,
    {{ as_money('amounts.gross_amount - amounts.discount_amount + amounts.tax_amount') }} as net_amount,
    amounts.currency,
    sales_channel.channel_id || ':order:' || amounts.order_id as correlation_id

from amounts
cross join sales_channel
