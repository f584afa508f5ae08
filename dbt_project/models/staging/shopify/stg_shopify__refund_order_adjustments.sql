with

source as (

    select * from {{ source('shopify', 'refund_order_adjustments') }}

),

renamed as (

    select
        {{ id_text('id') }} as refund_adjustment_id,
        {{ id_text('refund_id') }} as refund_id,
        {{ id_text('order_id') }} as order_id,
        order_updated_at,
        kind as adjustment_kind,
        -- Signed as Shopify sends it: a shipping refund is negative.
        {{ cast_money('amount') }} as amount,
        {{ cast_money('tax_amount') }} as tax_amount,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    {{ children_of_latest_order_version('renamed', 'refund_adjustment_id') }}

)

select
    refund_adjustment_id,
    refund_id,
    order_id,
    order_updated_at,
    adjustment_kind,
    amount,
    tax_amount,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
