-- Every returned line of every channel (int_<channel>__returns), linked to the order line it takes
-- back, wherever that was bought (a web order returned in a store links to the web order).
with

returns as (

    {{ union_contributors('returns') }}

)

select
    channel_id || ':' || return_line_id as return_line_key,
    return_line_id,
    return_id,
    channel_id,
    location_id,
    original_channel_id || ':' || original_order_id as original_order_key,
    original_channel_id || ':' || original_order_line_id as original_order_line_key,
    original_channel_id,
    original_order_id,
    original_order_line_id,
    sku,
    quantity,
    authorized_at,
    received_at,
    disposition,
    refunded_at,
    refund_amount,
    currency,
    business_date,
    correlation_id

from returns
