-- Line-level sums per order, from the lines of the order's latest version.
select
    order_id,
    count(*) as line_count,
    sum(unit_price * quantity) as gross_sales,
    sum(coalesce(discount_amount, 0)) as line_discount_total,
    sum(coalesce(tax_amount, 0)) as line_tax_total

from {{ ref('stg_shopify__order_line_items') }}
group by order_id
