-- Signed from the retailer's side: captures and chargeback reversals bring money in, refunds,
-- chargebacks and payouts take it out, a pure fee event has gross 0 and fees are never negative
-- except a returned dispute fee. Returns the events whose sign contradicts their type.
select
    payment_id,
    event_type,
    gross_amount,
    fee_amount

from {{ ref('int_stripe__payments') }}
where (event_type in ('capture', 'chargeback_reversal') and gross_amount <= 0)
    or (event_type in ('refund', 'chargeback', 'payout') and gross_amount >= 0)
    or (event_type = 'fee' and gross_amount <> 0)
    or (event_type not in ('chargeback_reversal', 'fee') and fee_amount < 0)
