with

source as (

    select * from {{ source('shopify', 'transactions') }}

),

renamed as (

    select
        {{ id_text('id') }} as transaction_id,
        {{ id_text('order_id') }} as order_id,
        {{ id_text('parent_id') }} as parent_transaction_id,
        lower(kind) as transaction_kind,
        lower(status) as transaction_status,
        gateway,
        -- Positive as Shopify sends it, refunds included; the canonical payments mart signs it.
        {{ cast_money('amount') }} as amount,
        upper(currency) as currency,
        created_at,
        processed_at,
        "authorization" as authorization_code,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Immutable per id, but a transaction can be fetched more than once: keep the latest fetch.
    select
        *,
        row_number() over (
            partition by transaction_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    transaction_id,
    order_id,
    parent_transaction_id,
    transaction_kind,
    transaction_status,
    gateway,
    amount,
    currency,
    created_at,
    processed_at,
    authorization_code,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
