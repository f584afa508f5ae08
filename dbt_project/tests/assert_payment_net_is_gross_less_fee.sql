select payment_key, gross_amount, fee_amount, net_amount
from {{ ref('payments') }}
where net_amount <> gross_amount - fee_amount
