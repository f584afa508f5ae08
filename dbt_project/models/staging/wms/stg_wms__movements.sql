with

source as (

    select * from {{ source('wms', 'movements') }}

),

renamed as (

    select
        {{ id_text('event_id') }} as movement_id,
        cast(sequence as bigint) as feed_sequence,
        cast(occurred_at as timestamptz) as occurred_at,
        cast(recorded_at as timestamptz) as recorded_at,
        cast(sku as varchar) as sku,
        cast(location as varchar) as location_id,
        lower(cast(type as varchar)) as movement_type,
        cast(quantity as integer) as quantity,
        nullif(trim(cast(reference as varchar)), '') as reference,
        nullif(trim(cast(reason as varchar)), '') as reason,
        _record_hash as record_hash,
        _landed_file as landed_file,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    select
        *,
        -- An event is immutable, but a page landed twice (or a re-pull) repeats it: keep the latest fetch.
        row_number() over (
            partition by movement_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    movement_id,
    feed_sequence,
    occurred_at,
    recorded_at,
    sku,
    location_id,
    movement_type,
    quantity,
    reference,
    reason,
    record_hash,
    landed_file,
    extracted_at

from deduplicated
where version_rank = 1
