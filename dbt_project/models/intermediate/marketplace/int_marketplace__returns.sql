-- Marketplace refund lines as returned lines, linked to the order line they take back (order_id || ':' ||
-- sku, as int_marketplace__order_lines names it). The files say neither when the goods came back nor in
-- what state: authorized_at and received_at are null and the disposition is var
-- marketplace_return_disposition ('restock': returns come back to the warehouse, which restocks them).
with

line_events as (

    select * from {{ ref('int_marketplace__settlement_line_events') }}
    where line_type = 'refund'

),

order_lines as (

    select channel_id, order_line_id, quantity from {{ ref('int_marketplace__order_lines') }}

)

select
    line_events.settlement_id || ':' || cast(line_events.line_number as varchar) as return_line_id,
    line_events.settlement_id || ':' || coalesce(line_events.order_id, cast(line_events.line_number as varchar))
        as return_id,
    line_events.channel_id,
    '{{ var("marketplace_fulfilment_location", "WH-NJ") }}' as location_id,
    line_events.channel_id as original_channel_id,
    line_events.order_id as original_order_id,
    line_events.order_id || ':' || coalesce(line_events.sku, '') as original_order_line_id,
    line_events.sku,
    cast(coalesce(line_events.quantity, order_lines.quantity) as integer) as quantity,
    cast(null as timestamptz) as authorized_at,
    cast(null as timestamptz) as received_at,
    '{{ var("marketplace_return_disposition", "restock") }}' as disposition,
    line_events.occurred_at as refunded_at,
    {{ as_money('-line_events.amount') }} as refund_amount,
    line_events.currency,
    line_events.business_date,
    line_events.channel_id || ':order:' || line_events.order_id as correlation_id

from line_events
left join order_lines
    on line_events.channel_id = order_lines.channel_id
    and line_events.order_id || ':' || coalesce(line_events.sku, '') = order_lines.order_line_id
