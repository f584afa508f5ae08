{{ config(severity='warn') }}
-- The 3PL's snapshot and its movement feed tell one story: each snapshot's on-hand is the previous
-- snapshot rolled forward by the movements since. Lists the positions where they disagree (a movement
-- the feed lost or the 3PL never sent, a count the snapshot took without an adjustment event). Days the
-- loaded feed does not cover yet (is_feed_complete false) and first snapshots (nothing to roll) are left out.
select
    inventory_position_id,
    location_id,
    sku,
    business_date,
    previous_business_date,
    previous_on_hand,
    movement_quantity,
    on_hand_from_movements,
    on_hand,
    on_hand_difference

from {{ ref('inventory_positions') }}
where is_feed_complete
    and on_hand_from_movements is not null
    and on_hand_difference <> 0
