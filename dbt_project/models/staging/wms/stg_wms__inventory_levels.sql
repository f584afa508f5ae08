with

source as (

    select * from {{ source('wms', 'inventory_levels') }}

),

renamed as (

    select
        {{ hash_id(['location', 'sku', 'as_of']) }} as inventory_level_id,
        cast(location as varchar) as location_id,
        cast(sku as varchar) as sku,
        cast(as_of as timestamptz) as as_of,
        cast(on_hand as integer) as on_hand,
        cast(available as integer) as available,
        cast(committed as integer) as committed,
        cast(damaged as integer) as damaged,
        cast(quality_control as integer) as quality_control,
        cast(in_transit as integer) as in_transit,
        cast(incoming as integer) as incoming,
        _record_hash as record_hash,
        _landed_file as landed_file,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    select
        *,
        -- Levels pulled again for the same moment (every day's pull lands them): keep the latest fetch.
        row_number() over (
            partition by location_id, sku, as_of
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    inventory_level_id,
    location_id,
    sku,
    as_of,
    on_hand,
    available,
    committed,
    damaged,
    quality_control,
    in_transit,
    incoming,
    record_hash,
    landed_file,
    extracted_at

from deduplicated
where version_rank = 1
