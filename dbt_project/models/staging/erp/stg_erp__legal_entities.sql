with

source as (

    select * from {{ source('erp', 'legal_entities') }}

),

renamed as (

    select
        legal_entity_id,
        name as legal_entity_name,
        upper(functional_currency) as functional_currency,
        -- IANA time zone: it defines the business date of everything not done in a store.
        time_zone,
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
            partition by legal_entity_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    legal_entity_id,
    legal_entity_name,
    functional_currency,
    time_zone,
    country,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
