with

source as (

    select * from {{ source('shopify', 'refunds') }}

),

renamed as (

    select
        {{ id_text('id') }} as refund_id,
        {{ id_text('order_id') }} as order_id,
        order_updated_at,
        created_at,
        processed_at,
        note as refund_note,
        restock as is_restocked,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    {{ children_of_latest_order_version('renamed', 'refund_id') }}

)

select
    refund_id,
    order_id,
    order_updated_at,
    created_at,
    processed_at,
    refund_note,
    is_restocked,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
