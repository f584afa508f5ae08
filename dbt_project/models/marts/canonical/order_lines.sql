with

lines as (

    select * from {{ ref('stg_shopify__order_line_items') }}

)

select
    order_line_id,
    order_id,
    sku,
    quantity,
    {{ as_money('unit_price') }} as unit_price,
    {{ as_money('unit_price * quantity') }} as gross_amount,
    {{ as_money('coalesce(discount_amount, 0)') }} as discount_amount,
    {{ as_money('coalesce(tax_amount, 0)') }} as tax_amount,
    -- Prices are tax-exclusive in this shop, so the line's total adds its tax.
    {{ as_money('unit_price * quantity - coalesce(discount_amount, 0) + coalesce(tax_amount, 0)') }} as net_amount,
    'shopify:order:' || order_id as correlation_id

from lines
