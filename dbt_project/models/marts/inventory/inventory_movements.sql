-- Every stock movement the WMS reports, with its business date in the location's zone and, when its
-- reference is a channel order of the canonical orders mart, that order's correlation id.
with

movements as (

    select * from {{ ref('int_inventory__movements') }}

),

orders as (

    -- A reference that is the order id of exactly one channel's order; ids shared by two channels stay unlinked.
    select
        order_id,
        min(correlation_id) as correlation_id,
        count(*) as channel_orders

    from {{ ref('orders') }}
    group by order_id

)

select
    movements.movement_id,
    movements.sku,
    movements.location_id,
    movements.movement_type,
    movements.quantity,
    movements.occurred_at,
    movements.business_date,
    movements.reference,
    movements.reference_type,
    case
        when movements.reference_type = 'order' and orders.channel_orders = 1 then orders.correlation_id
    end as correlation_id,
    movements.reason,
    movements.recorded_at,
    movements.feed_sequence

from movements
left join orders
    on movements.reference = orders.order_id
