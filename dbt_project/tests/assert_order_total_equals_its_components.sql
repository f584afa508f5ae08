-- Shopify's stated order total must tie back to the lines and the header: a gap means a line,
-- discount or tax the model does not see, and every downstream sales figure would be off by it.
select
    order_key,
    order_total,
    gross_sales - discount_total + shipping_total + tax_total as recomputed_total
from {{ ref('orders') }}
where order_total <> gross_sales - discount_total + shipping_total + tax_total
