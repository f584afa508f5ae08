-- One row per SKU, location and business date the 3PL snapshotted: the snapshot's states, and the
-- on-hand the movement feed implies (previous snapshot + movements since), with the difference.
select
    inventory_position_id,
    sku,
    location_id,
    business_date,
    snapshot_at,
    on_hand,
    available,
    committed,
    damaged,
    quality_control,
    in_transit,
    incoming,
    previous_business_date,
    previous_on_hand,
    movement_quantity,
    movement_count,
    on_hand_from_movements,
    on_hand_difference,
    is_feed_complete,
    is_latest

from {{ ref('int_inventory__positions') }}
