with

source as (

    select * from {{ source('erp', 'locations') }}

),

renamed as (

    select
        code as location_id,
        name as location_name,
        lower(kind) as location_kind,
        -- IANA time zone: a store's business date is its local date.
        time_zone,
        legal_entity_id,
        city,
        region,
        upper(country) as country,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Snapshotted on every pull: the latest fetch wins.
    select
        *,
        row_number() over (
            partition by location_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    location_id,
    location_name,
    location_kind,
    time_zone,
    legal_entity_id,
    city,
    region,
    country,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
