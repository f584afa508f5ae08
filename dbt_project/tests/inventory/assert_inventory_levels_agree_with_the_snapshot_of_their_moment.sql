{{ config(severity='warn') }}
-- The WMS API's levels and its end-of-day file are two renderings of one stock: a level reported as of a
-- snapshot's cut-off must state what the snapshot states. Lists the levels that disagree.
select
    levels.inventory_level_id,
    levels.location_id,
    levels.sku,
    levels.as_of,
    levels.on_hand as level_on_hand,
    positions.on_hand as snapshot_on_hand,
    levels.available as level_available,
    positions.available as snapshot_available

from {{ ref('stg_wms__inventory_levels') }} as levels
inner join {{ ref('inventory_positions') }} as positions
    on levels.location_id = positions.location_id
    and levels.sku = positions.sku
    and levels.as_of = positions.snapshot_at
where levels.on_hand <> positions.on_hand
    or levels.available <> positions.available
    or levels.committed <> positions.committed
    or levels.damaged <> positions.damaged
    or levels.quality_control <> positions.quality_control
    or levels.in_transit <> positions.in_transit
    or levels.incoming <> positions.incoming
