-- The provider's stated net should be amount - fee. Downstream recomputes net from amount and fee,
-- so a disagreement is a warning about the provider's data, not a wrong posting.
{{ config(severity='warn') }}

select balance_transaction_id, amount, fee_amount, net_amount
from {{ ref('stg_shopify__balance_transactions') }}
where net_amount <> amount - coalesce(fee_amount, 0)
