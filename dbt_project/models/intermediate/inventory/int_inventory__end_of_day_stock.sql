-- Physical stock per SKU, location and business date at the day's cut-off (the location's local midnight):
-- the 3PL's snapshot of that day when it was loaded, else the latest earlier snapshot rolled forward by the
-- movements of the days since (a snapshot not sent yet, or quarantined). The last business date with a
-- snapshot or a movement is "now". Running sums over one row per day keep the roll-forward linear in days.
with

snapshots as (

    select location_id, sku, business_date, on_hand, quality_control, damaged, in_transit, incoming
    from {{ ref('int_inventory__positions') }}

),

daily_movements as (

    select
        location_id,
        sku,
        business_date,
        sum(quantity) as net_units,
        sum(case when movement_type = 'receipt' then quantity else 0 end) as received_units,
        sum(
            case when movement_type = 'return_receipt' and reason = 'customer return, damaged' then quantity else 0 end
        ) as damaged_return_units

    from {{ ref('int_inventory__movements') }}
    where business_date is not null
    group by location_id, sku, business_date

),

calendar as (

    -- Days before the first snapshot have no stock to roll from.
    select business_date from snapshots
    union
    select business_date from daily_movements
    where business_date >= (select min(business_date) from snapshots)

),

places as (

    select location_id, sku from snapshots
    union
    select location_id, sku from daily_movements

),

running as (

    select
        places.location_id,
        places.sku,
        calendar.business_date,
        max(snapshots.business_date) over place_to_date as snapshot_date,
        sum(coalesce(daily_movements.net_units, 0)) over place_to_date as cumulative_net_units,
        sum(coalesce(daily_movements.damaged_return_units, 0)) over place_to_date as cumulative_damaged_returns,
        coalesce(daily_movements.received_units, 0) as received_units

    from places
    cross join calendar
    left join snapshots
        on snapshots.location_id = places.location_id
        and snapshots.sku = places.sku
        and snapshots.business_date = calendar.business_date
    left join daily_movements
        on daily_movements.location_id = places.location_id
        and daily_movements.sku = places.sku
        and daily_movements.business_date = calendar.business_date
    window place_to_date as (
        partition by places.location_id, places.sku
        order by calendar.business_date
        rows between unbounded preceding and current row
    )

),

rolled as (

    select
        running.location_id,
        running.sku,
        running.business_date,
        case
            when running.snapshot_date is null then 'unknown'
            when running.snapshot_date = running.business_date then 'snapshot'
            else 'rolled_forward'
        end as state_source,
        running.snapshot_date,
        snapshots.on_hand + running.cumulative_net_units - at_snapshot.cumulative_net_units as on_hand,
        case
            when running.snapshot_date = running.business_date then snapshots.quality_control
            -- received units are inspected overnight: only the day's receipts are still held
            else running.received_units
        end as quality_control,
        snapshots.damaged + running.cumulative_damaged_returns - at_snapshot.cumulative_damaged_returns as damaged,
        snapshots.in_transit,
        snapshots.incoming

    from running
    left join snapshots
        on snapshots.location_id = running.location_id
        and snapshots.sku = running.sku
        and snapshots.business_date = running.snapshot_date
    left join running as at_snapshot
        on at_snapshot.location_id = running.location_id
        and at_snapshot.sku = running.sku
        and at_snapshot.business_date = running.snapshot_date

),

capped as (

    -- Holds never exceed what is physically there.
    select
        *,
        case when on_hand is not null then least(quality_control, greatest(on_hand, 0)) end as held_for_inspection

    from rolled

)

select
    location_id,
    sku,
    business_date,
    state_source,
    snapshot_date,
    cast(on_hand as integer) as on_hand,
    cast(held_for_inspection as integer) as quality_control,
    -- least and greatest skip nulls: an unknown stock keeps its holds unknown
    cast(case
        when on_hand is not null then least(greatest(damaged, 0), greatest(on_hand - held_for_inspection, 0))
    end as integer) as damaged,
    cast(in_transit as integer) as in_transit,
    cast(incoming as integer) as incoming

from capped
