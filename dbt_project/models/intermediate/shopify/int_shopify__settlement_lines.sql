-- Shopify Payments balance transactions as settlement lines (contract: marts/finance settlement_lines).
-- The payout's own balance transaction is the deposit itself (int_shopify__payouts), not a line it settles.
with

balance_transactions as (

    select * from {{ ref('stg_shopify__balance_transactions') }}
    where balance_transaction_type <> 'payout'

)

select
    balance_transaction_id as settlement_line_id,
    'shopify_payments' as provider,
    payout_id,
    case balance_transaction_type
        when 'charge' then 'sale'
        when 'refund' then 'refund'
        when 'adjustment' then 'adjustment'
        when 'dispute' then 'chargeback'
        when 'reserved_funds' then 'reserve_hold'
        -- types Shopify adds later: kept, posted as adjustments, queued for a person to classify
        else 'other'
    end as line_type,
    -- Shopify's processing fee rides on the sale line itself.
    case when coalesce(fee_amount, 0) <> 0 then 'processing' end as fee_kind,
    order_id as order_reference,
    order_transaction_id as payment_reference,
    {{ as_money('amount') }} as gross_amount,
    {{ as_money('coalesce(fee_amount, 0)') }} as fee_amount,
    -- Recomputed rather than trusting the stated net, so lines, journals and tie-outs agree by construction;
    -- a stated net that disagrees is caught by a staging test.
    {{ as_money('amount - coalesce(fee_amount, 0)') }} as net_amount,
    currency,
    processed_at as posted_at,
    case when order_id is not null then '{{ var("shopify_channel_id") }}:order:' || order_id end as correlation_id

from balance_transactions
