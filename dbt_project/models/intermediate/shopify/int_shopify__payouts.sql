-- Shopify Payments payouts in the payouts contract (marts/finance payouts): the stated net deposit.
select
    'shopify_payments' as provider,
    payout_id,
    payout_status,
    payout_date,
    amount as stated_amount,
    currency

from {{ ref('stg_shopify__payouts') }}
