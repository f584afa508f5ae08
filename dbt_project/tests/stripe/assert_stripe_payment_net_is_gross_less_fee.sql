-- Every Stripe payment event's net is its gross less the fee, exactly (returns the events that are not).
select
    payment_id,
    event_type,
    gross_amount,
    fee_amount,
    net_amount

from {{ ref('int_stripe__payments') }}
where net_amount <> gross_amount - fee_amount
