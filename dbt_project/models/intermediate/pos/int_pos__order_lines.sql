-- Sold lines of the stores' tickets in the canonical shape (marts/canonical/_canonical__models.yml).
-- Square allocates order-level discounts to the lines itself, to the cent (total_discount_money of
-- each line): discount_amount is that allocation. Returned lines are in int_pos__returns.
with

lines as (

    select * from {{ ref('stg_square__order_line_items') }}

)

select
    lines.order_line_id,
    lines.order_id,
    'pos' as channel_id,
    lines.sku,
    cast(lines.quantity as integer) as quantity,
    {{ as_money('lines.unit_price') }} as unit_price,
    {{ as_money('lines.unit_price * lines.quantity') }} as gross_amount,
    {{ as_money('coalesce(lines.discount_amount, 0)') }} as discount_amount,
    {{ as_money('coalesce(lines.tax_amount, 0)') }} as tax_amount,
    {{ as_money('lines.unit_price * lines.quantity - coalesce(lines.discount_amount, 0) + coalesce(lines.tax_amount, 0)') }}
        as net_amount,
    lines.currency,
    'pos:order:' || lines.order_id as correlation_id

from lines
