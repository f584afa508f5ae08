-- Nothing is lost silently: every record in raw_wms reaches the inventory marts (a movement event by its
-- id, a snapshot row by its location, SKU and business date) or the API's current levels in staging; the
-- records that failed validation or parsing are in stg_wms__quarantine instead (they never reach the raw
-- tables, so they cannot be missing here). Returns the raw keys that reach neither.
with

raw_movements as (

    select distinct cast(event_id as varchar) as record_key
    from {{ source('wms', 'movements') }}

),

raw_snapshots as (

    select distinct
        cast(location as varchar) || '|' || cast(sku as varchar) || '|' || cast(cast(business_date as date) as varchar)
            as record_key
    from {{ source('wms', 'inventory_snapshots') }}

),

raw_levels as (

    select distinct {{ hash_id(['location', 'sku', 'as_of']) }} as record_key
    from {{ source('wms', 'inventory_levels') }}

)

select 'movements' as raw_table, raw_movements.record_key
from raw_movements
left join {{ ref('inventory_movements') }} as movements
    on raw_movements.record_key = movements.movement_id
where movements.movement_id is null

union all

select 'inventory_snapshots' as raw_table, raw_snapshots.record_key
from raw_snapshots
left join {{ ref('inventory_positions') }} as positions
    on raw_snapshots.record_key = positions.inventory_position_id
where positions.inventory_position_id is null

union all

select 'inventory_levels' as raw_table, raw_levels.record_key
from raw_levels
left join {{ ref('stg_wms__inventory_levels') }} as levels
    on raw_levels.record_key = levels.inventory_level_id
where levels.inventory_level_id is null
