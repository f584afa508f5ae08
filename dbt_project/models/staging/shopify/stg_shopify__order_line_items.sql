with

source as (

    select * from {{ source('shopify', 'order_line_items') }}

),

renamed as (

    select
        {{ id_text('id') }} as order_line_id,
        {{ id_text('order_id') }} as order_id,
        order_updated_at,
        sku,
        title as product_title,
        quantity,
        {{ cast_money('price') }} as unit_price,
        {{ cast_money('discount_amount') }} as discount_amount,
        {{ cast_money('tax_amount') }} as tax_amount,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    {{ children_of_latest_order_version('renamed', 'order_line_id') }}

)

select
    order_line_id,
    order_id,
    order_updated_at,
    sku,
    product_title,
    quantity,
    unit_price,
    discount_amount,
    tax_amount,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
