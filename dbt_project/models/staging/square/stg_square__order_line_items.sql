with

source as (

    select * from {{ source('square', 'order_line_items') }}

),

renamed as (

    select
        -- Square's uid is unique only within its order: the order id makes the line id global.
        order_id || '/' || uid as order_line_id,
        uid as line_item_uid,
        order_id,
        order_updated_at,
        name as product_name,
        variation_name,
        catalog_object_id,
        sku,
        quantity,
        upper(currency) as currency,
        {{ pos_minor_to_money('base_price_money', 'currency') }} as unit_price,
        {{ pos_minor_to_money('gross_sales_money', 'currency') }} as gross_sales_amount,
        {{ pos_minor_to_money('total_discount_money', 'currency') }} as discount_amount,
        {{ pos_minor_to_money('total_tax_money', 'currency') }} as tax_amount,
        {{ pos_minor_to_money('total_money', 'currency') }} as total_amount,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Only the lines of the order's latest version: an edited order can drop or change lines.
    {{ children_of_latest_order_version('renamed', 'order_line_id', 'stg_square__orders') }}

)

select
    order_line_id,
    line_item_uid,
    order_id,
    order_updated_at,
    product_name,
    variation_name,
    catalog_object_id,
    sku,
    quantity,
    currency,
    unit_price,
    gross_sales_amount,
    discount_amount,
    tax_amount,
    total_amount,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
