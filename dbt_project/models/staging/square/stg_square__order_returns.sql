with

source as (

    select * from {{ source('square', 'order_returns') }}

),

renamed as (

    select
        -- The returned line's uid is unique only within its return order.
        order_id || '/' || uid as return_line_id,
        uid as return_line_uid,
        return_uid,
        order_id as return_order_id,
        order_updated_at,
        source_order_id,
        source_line_item_uid,
        name as product_name,
        sku,
        catalog_object_id,
        quantity,
        upper(currency) as currency,
        {{ pos_minor_to_money('base_price_money', 'currency') }} as unit_price,
        {{ pos_minor_to_money('gross_return_money', 'currency') }} as gross_return_amount,
        {{ pos_minor_to_money('total_discount_money', 'currency') }} as discount_amount,
        {{ pos_minor_to_money('total_tax_money', 'currency') }} as tax_amount,
        {{ pos_minor_to_money('total_money', 'currency') }} as total_amount,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

latest as (

    select renamed.*, renamed.return_order_id as order_id from renamed

),

deduplicated as (

    {{ children_of_latest_order_version('latest', 'return_line_id', 'stg_square__orders') }}

)

select
    return_line_id,
    return_line_uid,
    return_uid,
    return_order_id,
    order_updated_at,
    source_order_id,
    source_line_item_uid,
    product_name,
    sku,
    catalog_object_id,
    quantity,
    currency,
    unit_price,
    gross_return_amount,
    discount_amount,
    tax_amount,
    total_amount,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
