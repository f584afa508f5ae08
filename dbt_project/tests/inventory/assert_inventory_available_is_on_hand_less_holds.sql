{{ config(severity='warn') }}
-- available = on_hand - committed - damaged - quality_control, and no state is negative or exceeds
-- on hand. The 3PL may hold other states (safety stock), so a difference is a warning to look at,
-- not an error; ATS relies on available.
select
    inventory_position_id,
    on_hand,
    available,
    committed,
    damaged,
    quality_control

from {{ ref('inventory_positions') }}
where available <> on_hand - committed - damaged - quality_control
    or least(on_hand, available, committed, damaged, quality_control, in_transit, incoming) < 0
    or committed + damaged + quality_control > on_hand
