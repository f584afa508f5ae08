with

source as (

    select * from {{ source('wms', 'inventory_snapshots') }}

),

renamed as (

    select
        {{ hash_id(['location', 'sku', 'snapshot_at']) }} as inventory_snapshot_id,
        cast(location as varchar) as location_id,
        cast(sku as varchar) as sku,
        cast(snapshot_at as timestamptz) as snapshot_at,
        -- The local date of the cut-off in the location's zone, as the file states it (the parser reads it
        -- from snapshot_at's own offset).
        cast(business_date as date) as business_date,
        cast(on_hand as integer) as on_hand,
        cast(available as integer) as available,
        cast(committed as integer) as committed,
        cast(damaged as integer) as damaged,
        cast(quality_control as integer) as quality_control,
        cast(in_transit as integer) as in_transit,
        cast(incoming as integer) as incoming,
        cast(line_number as integer) as line_number,
        _record_hash as record_hash,
        _landed_file as landed_file,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    select
        *,
        -- A file dropped again (a 3PL correction) restates the same cut-off: the latest landing wins.
        row_number() over (
            partition by location_id, sku, snapshot_at
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    inventory_snapshot_id,
    location_id,
    sku,
    snapshot_at,
    business_date,
    on_hand,
    available,
    committed,
    damaged,
    quality_control,
    in_transit,
    incoming,
    line_number,
    record_hash,
    landed_file,
    extracted_at

from deduplicated
where version_rank = 1
