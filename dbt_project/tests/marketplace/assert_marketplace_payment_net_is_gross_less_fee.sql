-- Every marketplace payment event: net = gross - fee exactly; a fee event moves no gross; a sale is money
-- in and a refund money out.
select
    provider,
    payment_id,
    event_type,
    gross_amount,
    fee_amount,
    net_amount

from {{ ref('int_marketplace__payments') }}
where net_amount <> gross_amount - fee_amount
    or (event_type = 'fee' and gross_amount <> 0)
    or (event_type = 'sale' and gross_amount < 0)
    or (event_type = 'refund' and gross_amount > 0)
