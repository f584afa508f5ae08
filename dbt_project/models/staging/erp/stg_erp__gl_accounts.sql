with

source as (

    select * from {{ source('erp', 'gl_accounts') }}

),

renamed as (

    select
        -- An account code is unique within its legal entity; '*' marks a global account.
        coalesce(legal_entity_id, '*') || '|' || account_code as gl_account_key,
        account_code,
        name as account_name,
        lower(account_type) as account_type,
        legal_entity_id,
        legal_entity_id is null as is_global,
        active as is_active,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Snapshotted on every pull: the latest fetch wins.
    select
        *,
        row_number() over (
            partition by gl_account_key
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    gl_account_key,
    account_code,
    account_name,
    account_type,
    legal_entity_id,
    is_global,
    is_active,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
