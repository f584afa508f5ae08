-- Every line the stores took back, in the canonical shape (marts/canonical/_canonical__models.yml),
-- linked to the order line it returns:
-- - a store sale's return names the Square order and line (source_order_id, source_line_item_uid):
--   original_order_line_id is that POS order line ('<order id>/<uid>', as int_pos__order_lines);
-- - a web order returned in store has no Square source order: the POS writes the web channel and
--   order id into the return order's metadata (returned_channel, returned_order_id) and the web order
--   line's id into the returned line's source_line_item_uid.
-- The goods go back on the store's shelf (disposition restock); the refund is dated when the money
-- went back (the latest refund of the return ticket, else the ticket's close).
with

returned_lines as (

    select * from {{ ref('stg_square__order_returns') }}

),

return_orders as (

    select * from {{ ref('stg_square__orders') }}

),

stores as (

    select * from {{ ref('int_pos__store_locations') }}

),

refunds as (

    select
        return_order_id,
        max(created_at) as refunded_at

    from {{ ref('stg_square__refunds') }}
    where refund_status = 'COMPLETED'
    group by return_order_id

),

linked as (

    select
        returned_lines.return_line_id,
        returned_lines.return_order_id as return_id,
        stores.location_id,
        stores.time_zone,
        case
            when returned_lines.source_order_id is not null then 'pos'
            else return_orders.returned_channel
        end as original_channel_id,
        coalesce(returned_lines.source_order_id, return_orders.returned_order_id) as original_order_id,
        case
            when returned_lines.source_order_id is not null
                then returned_lines.source_order_id || '/' || returned_lines.source_line_item_uid
            else returned_lines.source_line_item_uid
        end as original_order_line_id,
        returned_lines.sku,
        returned_lines.quantity,
        return_orders.created_at as received_at,
        coalesce(refunds.refunded_at, return_orders.closed_at) as refunded_at,
        returned_lines.total_amount as refund_amount,
        returned_lines.currency

    from returned_lines
    inner join return_orders
        on returned_lines.return_order_id = return_orders.order_id
    left join stores
        on return_orders.location_id = stores.square_location_id
    left join refunds
        on returned_lines.return_order_id = refunds.return_order_id

)

select
    return_line_id,
    return_id,
    'pos' as channel_id,
    location_id,
    original_channel_id,
    original_order_id,
    original_order_line_id,
    sku,
    cast(quantity as integer) as quantity,
    cast(null as timestamptz) as authorized_at,
    received_at,
    'restock' as disposition,
    refunded_at,
    {{ as_money('refund_amount') }} as refund_amount,
    currency,
    {{ local_date('refunded_at', 'time_zone') }} as business_date,
    original_channel_id || ':order:' || original_order_id as correlation_id

from linked
