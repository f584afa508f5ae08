with

source as (

    select * from {{ source('square', 'locations') }}

),

renamed as (

    select
        id as location_id,
        -- The retailer's store code: Square keeps it in the location's description ("Store ST-NYC").
        case when description like 'Store %' then trim(substr(description, 7)) end as store_code,
        name as location_name,
        business_name,
        timezone as time_zone,
        status as location_status,
        type as location_type,
        upper(currency) as currency,
        country,
        merchant_id,
        created_at,
        locality,
        region,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

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
    store_code,
    location_name,
    business_name,
    time_zone,
    location_status,
    location_type,
    currency,
    country,
    merchant_id,
    created_at,
    locality,
    region,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
