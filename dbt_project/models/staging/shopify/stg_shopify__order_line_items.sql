with

source as (

    select * from {{ source('shopify', 'order_line_items') }}

),

latest_order_versions as (

    select order_id, updated_at from {{ ref('stg_shopify__orders') }}

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

    -- Only the children of the order's latest version: an edited order can drop or change lines.
    select
        renamed.*,
        row_number() over (
            partition by renamed.order_line_id
            order by renamed.extracted_at desc, renamed.record_hash desc
        ) as version_rank

    from renamed
    inner join latest_order_versions
        on renamed.order_id = latest_order_versions.order_id
        and renamed.order_updated_at = latest_order_versions.updated_at

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
