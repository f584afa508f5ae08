-- WMS movement events with the business date of the location they happened at (its local date).
with

movements as (

    select * from {{ ref('stg_wms__movements') }}

),

locations as (

    select location_id, time_zone from {{ ref('inventory_locations') }}

)

select
    movements.movement_id,
    movements.feed_sequence,
    movements.sku,
    movements.location_id,
    movements.movement_type,
    movements.quantity,
    movements.occurred_at,
    movements.recorded_at,
    -- null for a location the seed does not know: a not_null test names it instead of dropping the event.
    {{ local_date('movements.occurred_at', 'locations.time_zone') }} as business_date,
    movements.reference,
    case
        when movements.movement_type in ('ship', 'pick', 'return_receipt') then 'order'
        when movements.movement_type = 'receipt' then 'purchase_order'
        when movements.movement_type in ('transfer_out', 'transfer_in') then 'transfer'
        when movements.movement_type = 'damage' then 'damage_report'
        when movements.movement_type = 'adjustment' then 'stock_count'
    end as reference_type,
    movements.reason,
    movements.record_hash

from movements
left join locations
    on movements.location_id = locations.location_id
