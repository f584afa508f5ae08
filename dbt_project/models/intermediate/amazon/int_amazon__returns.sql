-- Amazon refunds as returned lines, one per refund (adjustment) and order item, linked to the order line
-- (OrderItemId). The settlement says neither when the goods came back nor in what state: received_at and
-- authorized_at stay null, and the disposition is var amazon_return_disposition ('restock': merchant-
-- fulfilled returns come back to the warehouse, which restocks them). A refund that gives no quantity
-- takes back the item's whole ordered quantity.
with

refunds as (

    select * from {{ ref('int_amazon__order_refunds') }}

),

lines as (

    select order_line_id, sku, quantity from {{ ref('int_amazon__order_lines') }}

),

sales_channel as (

    select * from {{ ref('int_amazon__sales_channel') }}

)

select
    refunds.return_line_id,
    refunds.return_id,
    sales_channel.channel_id,
    '{{ var("amazon_fulfilment_location", "WH-NJ") }}' as location_id,
    sales_channel.channel_id as original_channel_id,
    refunds.order_id as original_order_id,
    refunds.order_item_id as original_order_line_id,
    coalesce(refunds.sku, lines.sku) as sku,
    cast(coalesce(refunds.quantity_refunded, lines.quantity) as integer) as quantity,
    cast(null as timestamptz) as authorized_at,
    cast(null as timestamptz) as received_at,
    '{{ var("amazon_return_disposition", "restock") }}' as disposition,
    refunds.refunded_at,
    refunds.refund_amount,
    refunds.currency,
    case
        when refunds.has_no_instant = 1 then refunds.posted_date
        else {{ local_date('refunds.refunded_at', 'sales_channel.time_zone') }}
    end as business_date,
    sales_channel.channel_id || ':order:' || refunds.order_id as correlation_id

from refunds
left join lines
    on refunds.order_item_id = lines.order_line_id
cross join sales_channel
