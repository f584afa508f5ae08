-- An automatic payout pays out exactly the net of the balance transactions listed under it, and
-- its own `payout` balance transaction withdraws exactly its amount. Only payouts whose
-- transactions were pulled (listed by payout) are checked. Returns the payouts that do not tie out.
with

payouts as (

    select * from {{ ref('stg_stripe__payouts') }}
    where is_automatic and payout_status not in ('failed', 'canceled')

),

listed as (

    select
        payout_id,
        sum(case when balance_transaction_type <> 'payout' then net_amount else 0 end) as activity_net,
        sum(case when balance_transaction_type = 'payout' then amount else 0 end) as payout_transaction_amount,
        count(*) as transactions

    from {{ ref('stg_stripe__balance_transactions') }}
    where payout_id is not null
    group by payout_id

)

select
    payouts.payout_id,
    payouts.amount,
    listed.activity_net,
    listed.payout_transaction_amount

from payouts
inner join listed
    on payouts.payout_id = listed.payout_id
where listed.activity_net <> payouts.amount
    or listed.payout_transaction_amount <> -payouts.amount
