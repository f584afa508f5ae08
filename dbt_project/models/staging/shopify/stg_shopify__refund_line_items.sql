with

source as (

    select * from {{ source('shopify', 'refund_line_items') }}

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

    {{ children_of_latest_order_version('renamed', 'refund_line_id') }}

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
