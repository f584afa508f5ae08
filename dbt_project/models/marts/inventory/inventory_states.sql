-- Stock states per SKU, location and business date, as Shopify's inventory states define them: on hand split
-- into committed, reserved, damaged, quality control, safety stock and what is left available; in transit and
-- incoming kept apart (not on hand). The latest business date is now (docs/inventory.md).
with

stock as (

    select * from {{ ref('int_inventory__end_of_day_stock') }}

),

committed as (

    select * from {{ ref('int_inventory__committed_units') }}

),

reservations as (

    select * from {{ ref('inventory_reservations') }}

),

safety_stock as (

    select * from {{ ref('safety_stock') }}

),

reserved as (

    select
        stock.location_id,
        stock.sku,
        stock.business_date,
        sum(reservations.units) as reserved_units

    from stock
    inner join reservations
        on reservations.location_id = stock.location_id
        and reservations.sku = stock.sku
        and reservations.reserved_from <= stock.business_date
        and (reservations.reserved_until is null or stock.business_date <= reservations.reserved_until)
    group by stock.location_id, stock.sku, stock.business_date

),

states as (

    select
        stock.location_id,
        stock.sku,
        stock.business_date,
        stock.state_source,
        stock.snapshot_date,
        stock.on_hand,
        coalesce(committed.committed_units, 0) as committed,
        coalesce(reserved.reserved_units, 0) as reserved,
        stock.damaged,
        stock.quality_control,
        -- the most specific rule wins: SKU at the location, the SKU anywhere, the location, the default
        coalesce(for_sku_here.units, for_sku.units, for_location.units, by_default.units, 0) as safety_stock,
        stock.in_transit,
        stock.incoming

    from stock
    left join committed
        on committed.location_id = stock.location_id
        and committed.sku = stock.sku
        and committed.business_date = stock.business_date
    left join reserved
        on reserved.location_id = stock.location_id
        and reserved.sku = stock.sku
        and reserved.business_date = stock.business_date
    left join safety_stock as for_sku_here
        on for_sku_here.sku = stock.sku and for_sku_here.location_id = stock.location_id
    left join safety_stock as for_sku
        on for_sku.sku = stock.sku and for_sku.location_id is null
    left join safety_stock as for_location
        on for_location.sku is null and for_location.location_id = stock.location_id
    left join safety_stock as by_default
        on by_default.sku is null and by_default.location_id is null

)

select
    location_id || '|' || sku || '|' || cast(business_date as varchar) as inventory_state_id,
    location_id,
    sku,
    business_date,
    state_source,
    snapshot_date,
    on_hand,
    cast(committed as integer) as committed,
    cast(reserved as integer) as reserved,
    damaged,
    quality_control,
    cast(safety_stock as integer) as safety_stock,
    -- stock nobody vouches for (no snapshot yet) is not sold
    cast(case
        when state_source = 'unknown' then 0
        else greatest(on_hand - committed - reserved - damaged - quality_control - safety_stock, 0)
    end as integer) as available,
    in_transit,
    incoming,
    business_date = max(business_date) over () as is_current

from states
