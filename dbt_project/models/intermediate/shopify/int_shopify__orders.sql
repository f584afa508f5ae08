-- Shopify orders in the canonical shape (see marts/canonical/_canonical__models.yml for the contract).
with

orders as (

    select * from {{ ref('stg_shopify__orders') }}

),

line_totals as (

    select * from {{ ref('int_shopify__order_line_totals') }}

),

refund_totals as (

    select * from {{ ref('int_shopify__order_refund_totals') }}

),

sales_channel as (

    select * from {{ ref('int_shopify__sales_channel') }}

)

select
    orders.order_id,
    sales_channel.channel_id,
    orders.order_name as order_number,
    sales_channel.legal_entity_id,
    -- The web shop ships everything from the 3PL's warehouse.
    '{{ var("shopify_fulfilment_location") }}' as location_id,
    orders.customer_key,
    orders.created_at as ordered_at,
    {{ local_date('orders.created_at', 'sales_channel.time_zone') }} as business_date,
    orders.currency,
    {{ as_money('coalesce(line_totals.gross_sales, 0)') }} as gross_sales,
    -- Header totals as Shopify states them (they include order-level discounts and shipping tax);
    -- the order_total invariant test ties them back to the lines.
    {{ as_money('coalesce(orders.discount_amount, 0)') }} as discount_total,
    {{ as_money('coalesce(orders.shipping_amount, 0)') }} as shipping_total,
    {{ as_money('coalesce(orders.tax_amount, 0)') }} as tax_total,
    -- The sandbox shop takes no tips; a real one's total_tip_received would go here.
    {{ as_money('0') }} as tip_total,
    {{ as_money('orders.total_amount') }} as order_total,
    {{ as_money('coalesce(refund_totals.refunded_total, 0)') }} as refunded_total,
    orders.financial_status,
    sales_channel.channel_id || ':order:' || orders.order_id as correlation_id

from orders
cross join sales_channel
left join line_totals
    on orders.order_id = line_totals.order_id
left join refund_totals
    on orders.order_id = refund_totals.order_id
