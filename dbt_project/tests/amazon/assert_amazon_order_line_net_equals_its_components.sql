-- Every Amazon order line: net = gross - discount + tax, and the unit price times the quantity is the
-- stated ItemPrice to within the unit price's rounding (Amazon states the price for the whole quantity).
select
    order_line_id,
    quantity,
    unit_price,
    gross_amount,
    discount_amount,
    tax_amount,
    net_amount

from {{ ref('int_amazon__order_lines') }}
where net_amount <> gross_amount - discount_amount + tax_amount
    or (quantity > 0 and abs(unit_price * quantity - gross_amount) > 0.00005 * quantity)
