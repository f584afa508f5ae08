-- Every store payment event nets exactly (net = gross - fee), sales are positive and refunds negative.
select *
from {{ ref('int_pos__payments') }}
where net_amount <> gross_amount - fee_amount
    or (event_type = 'sale' and gross_amount <= 0)
    or (event_type = 'refund' and gross_amount >= 0)
