with

source as (

    select * from {{ source('shopify', 'refund_line_items') }}

),

latest_order_versions as (

    select order_id, updated_at from {{ ref('stg_shopify__orders') }}

),

renamed as (

    select
        {{ id_text('id') }} as refund_line_id,
        {{ id_text('refund_id') }} as refund_id,
        {{ id_text('order_id') }} as order_id,
        order_updated_at,
        {{ id_text('line_item_id') }} as order_line_id,
        quantity,
        {{ cast_money('subtotal') }} as subtotal_amount,
        {{ cast_money('total_tax') }} as tax_amount,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Only the children of the order's latest version.
    select
        renamed.*,
        row_number() over (
            partition by renamed.refund_line_id
            order by renamed.extracted_at desc, renamed.record_hash desc
        ) as version_rank

    from renamed
    inner join latest_order_versions
        on renamed.order_id = latest_order_versions.order_id
        and renamed.order_updated_at = latest_order_versions.updated_at

)

select
    refund_line_id,
    refund_id,
    order_id,
    order_updated_at,
    order_line_id,
    quantity,
    subtotal_amount,
    tax_amount,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
