-- Shopify refund lines as returns. Shopify records no return authorisation here, and a restocked
-- refund means the goods came back when the refund was processed.
with

refund_lines as (

    select * from {{ ref('stg_shopify__refund_line_items') }}

),

refunds as (

    select * from {{ ref('stg_shopify__refunds') }}

),

lines as (

    select order_line_id, sku from {{ ref('stg_shopify__order_line_items') }}

),

orders as (

    select order_id, currency from {{ ref('stg_shopify__orders') }}

),

sales_channel as (

    select * from {{ ref('int_shopify__sales_channel') }}

)

select
    refund_lines.refund_line_id as return_line_id,
    refund_lines.refund_id as return_id,
    sales_channel.channel_id,
    '{{ var("shopify_fulfilment_location") }}' as location_id,
    sales_channel.channel_id as original_channel_id,
    refund_lines.order_id as original_order_id,
    refund_lines.order_line_id as original_order_line_id,
    lines.sku,
    refund_lines.quantity,
    cast(null as timestamptz) as authorized_at,
    case when refunds.is_restocked then refunds.processed_at end as received_at,
    case when refunds.is_restocked then 'restock' else 'not_returned' end as disposition,
    refunds.processed_at as refunded_at,
    {{ as_money('coalesce(refund_lines.subtotal_amount, 0) + coalesce(refund_lines.tax_amount, 0)') }} as refund_amount,
    orders.currency,
    {{ local_date('refunds.processed_at', 'sales_channel.time_zone') }} as business_date,
    sales_channel.channel_id || ':order:' || refund_lines.order_id as correlation_id

from refund_lines
inner join refunds
    on refund_lines.refund_id = refunds.refund_id
inner join orders
    on refund_lines.order_id = orders.order_id
left join lines
    on refund_lines.order_line_id = lines.order_line_id
cross join sales_channel
