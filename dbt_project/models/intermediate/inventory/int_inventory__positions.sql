-- Each end-of-day snapshot next to what the movement feed says: the previous snapshot of the same SKU at
-- the same location rolled forward by the movements of the business days since (a quarantined snapshot
-- row leaves a gap: the roll then starts from the latest earlier snapshot and spans the gap's movements).
with

snapshots as (

    select
        *,
        -- Two cut-offs on one business date (a 3PL that re-cut the day): the later one is the day's position.
        row_number() over (
            partition by location_id, sku, business_date
            order by snapshot_at desc
        ) as cutoff_rank

    from {{ ref('stg_wms__inventory_snapshots') }}

),

days as (

    select
        *,
        lag(business_date) over (partition by location_id, sku order by business_date) as previous_business_date,
        lag(on_hand) over (partition by location_id, sku order by business_date) as previous_on_hand,
        max(business_date) over (partition by location_id, sku) as latest_business_date

    from snapshots
    where cutoff_rank = 1

),

movements as (

    select * from {{ ref('int_inventory__movements') }}

),

daily_movements as (

    select
        location_id,
        sku,
        business_date,
        sum(quantity) as quantity,
        count(*) as movements

    from movements
    group by location_id, sku, business_date

),

rolled as (

    select
        days.location_id,
        days.sku,
        days.business_date,
        sum(daily_movements.quantity) as movement_quantity,
        sum(daily_movements.movements) as movement_count

    from days
    inner join daily_movements
        on daily_movements.location_id = days.location_id
        and daily_movements.sku = days.sku
        and (
            -- since the previous snapshot; the first snapshot has only its own day's movements to show
            (daily_movements.business_date > days.previous_business_date
                and daily_movements.business_date <= days.business_date)
            or (days.previous_business_date is null and daily_movements.business_date = days.business_date)
        )
    group by days.location_id, days.sku, days.business_date

),

entity_zones as (

    select locations.location_id, entities.time_zone as entity_time_zone
    from {{ ref('inventory_locations') }} as locations
    inner join {{ ref('legal_entities') }} as entities
        on locations.legal_entity_id = entities.legal_entity_id

),

feed as (

    -- The movement feed is pulled in whole business days of the legal entity (connectors/wms/daily_pull.py):
    -- the latest such day with an event is the last one the feed is known to cover.
    select max({{ local_date('movements.occurred_at', 'entity_zones.entity_time_zone') }}) as last_feed_date
    from movements
    inner join entity_zones
        on movements.location_id = entity_zones.location_id

)

select
    days.location_id || '|' || days.sku || '|' || cast(days.business_date as varchar) as inventory_position_id,
    days.sku,
    days.location_id,
    days.business_date,
    days.snapshot_at,
    days.on_hand,
    days.available,
    days.committed,
    days.damaged,
    days.quality_control,
    days.in_transit,
    days.incoming,
    days.previous_business_date,
    days.previous_on_hand,
    cast(coalesce(rolled.movement_quantity, 0) as integer) as movement_quantity,
    cast(coalesce(rolled.movement_count, 0) as integer) as movement_count,
    cast(days.previous_on_hand + coalesce(rolled.movement_quantity, 0) as integer) as on_hand_from_movements,
    cast(days.on_hand - (days.previous_on_hand + coalesce(rolled.movement_quantity, 0)) as integer)
        as on_hand_difference,
    -- Whether the feed covers the snapshot's whole day: a store west of the entity closes its day after the
    -- entity's midnight, so its last day is complete only once the entity's next day has been pulled.
    coalesce(
        {{ local_date('days.snapshot_at', 'entity_zones.entity_time_zone') }} <= feed.last_feed_date, false
    ) as is_feed_complete,
    days.business_date = days.latest_business_date as is_latest,
    days.inventory_snapshot_id,
    days.record_hash

from days
left join rolled
    on rolled.location_id = days.location_id
    and rolled.sku = days.sku
    and rolled.business_date = days.business_date
left join entity_zones
    on entity_zones.location_id = days.location_id
cross join feed
