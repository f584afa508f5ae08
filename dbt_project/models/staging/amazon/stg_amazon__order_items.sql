with

source as (

    select * from {{ source('amazon', 'order_items') }}

),

renamed as (

    select
        {{ id_text('order_item_id') }} as order_item_id,
        {{ id_text('amazon_order_id') }} as order_id,
        asin,
        seller_sku as sku,
        title as product_title,
        quantity_ordered,
        quantity_shipped,
        -- Amazon states every amount for the item's whole quantity, not per unit.
        {{ as_money('item_price') }} as item_price_amount,
        {{ as_money('item_tax') }} as item_tax_amount,
        {{ as_money('shipping_price') }} as shipping_price_amount,
        {{ as_money('shipping_tax') }} as shipping_tax_amount,
        {{ as_money('shipping_discount') }} as shipping_discount_amount,
        {{ as_money('shipping_discount_tax') }} as shipping_discount_tax_amount,
        {{ as_money('promotion_discount') }} as promotion_discount_amount,
        {{ as_money('promotion_discount_tax') }} as promotion_discount_tax_amount,
        upper(coalesce(item_price_currency, item_tax_currency, shipping_price_currency)) as currency,
        promotion_ids,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Items carry no version of their own: the latest fetch wins.
    select
        *,
        row_number() over (
            partition by order_item_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    order_item_id,
    order_id,
    asin,
    sku,
    product_title,
    quantity_ordered,
    quantity_shipped,
    item_price_amount,
    item_tax_amount,
    shipping_price_amount,
    shipping_tax_amount,
    shipping_discount_amount,
    shipping_discount_tax_amount,
    promotion_discount_amount,
    promotion_discount_tax_amount,
    currency,
    promotion_ids,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
