-- Stripe payouts in the payouts contract (marts/finance payouts): what Stripe says it transfers, on the
-- date the bank receives it. Every payout is kept, failed ones too: the status says why no deposit came.
select
    'stripe' as provider,
    {{ id_text('payout_id') }} as payout_id,
    payout_status,
    -- arrival_date is what the bank statement shows as the value date.
    arrival_date as payout_date,
    {{ as_money('amount') }} as stated_amount,
    currency

from {{ ref('stg_stripe__payouts') }}
