-- Conservation: every raw Stripe record reaches staging and then a payment event of
-- int_stripe__payments (or is in raw_stripe._quarantine). Records that moved no money are the
-- only ones excused, each by an explicit rule: a charge that failed or was never captured, a
-- refund or payout that failed or was canceled, a dispute with no balance transaction (an
-- inquiry). A balance transaction reaches an event as its own id, or as the fee of the charge,
-- refund or payout it belongs to. Returns the raw keys that reach neither.
with

payments as (

    select payment_id, provider_reference from {{ ref('int_stripe__payments') }}

),

quarantined as (

    select distinct record_id from {{ ref('stg_stripe__quarantine') }} where record_id is not null

),

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

refunds as (

    select * from {{ ref('stg_stripe__refunds') }}

),

payouts as (

    select * from {{ ref('stg_stripe__payouts') }}

),

dispute_balance_transactions as (

    select * from {{ ref('stg_stripe__dispute_balance_transactions') }}

),

-- Staging rows that must reach payments, with the id of the event they become.
expected as (

    select 'charges' as raw_table, charge_id as raw_key, charge_id as payment_id from charges
    where charge_status = 'succeeded' and is_captured and amount_captured > 0

    union all

    select 'refunds', refund_id, refund_id from refunds
    where coalesce(refund_status, 'succeeded') not in ('failed', 'canceled')

    union all

    select 'payouts', payout_id, payout_id from payouts
    where payout_status not in ('failed', 'canceled')

    union all

    select 'dispute_balance_transactions', balance_transaction_id, balance_transaction_id
    from dispute_balance_transactions

    union all

    -- A dispute reaches payments through its balance transactions.
    select 'disputes', disputes.dispute_id, dispute_balance_transactions.balance_transaction_id
    from {{ ref('stg_stripe__disputes') }} as disputes
    inner join dispute_balance_transactions
        on disputes.dispute_id = dispute_balance_transactions.dispute_id

    union all

    select
        'balance_transactions',
        balance_transactions.balance_transaction_id,
        coalesce(
            charges.charge_id, refunds.refund_id, payouts.payout_id, balance_transactions.balance_transaction_id
        )
    from {{ ref('stg_stripe__balance_transactions') }} as balance_transactions
    left join charges on balance_transactions.balance_transaction_id = charges.balance_transaction_id
    left join refunds on balance_transactions.balance_transaction_id = refunds.balance_transaction_id
    left join payouts on balance_transactions.balance_transaction_id = payouts.balance_transaction_id

),

raw_records as (

    select 'charges' as raw_table, id as raw_key from {{ source('stripe', 'charges') }}
    union all
    select 'refunds', id from {{ source('stripe', 'refunds') }}
    union all
    select 'payouts', id from {{ source('stripe', 'payouts') }}
    union all
    select 'disputes', id from {{ source('stripe', 'disputes') }}
    union all
    select 'dispute_balance_transactions', balance_transaction_id from {{ source('stripe', 'dispute_balance_transactions') }}
    union all
    select 'balance_transactions', id from {{ source('stripe', 'balance_transactions') }}

),

staged as (

    select 'charges' as raw_table, charge_id as raw_key from charges
    union all
    select 'refunds', refund_id from refunds
    union all
    select 'payouts', payout_id from payouts
    union all
    select 'disputes', dispute_id from {{ ref('stg_stripe__disputes') }}
    union all
    select 'dispute_balance_transactions', balance_transaction_id from dispute_balance_transactions
    union all
    select 'balance_transactions', balance_transaction_id from {{ ref('stg_stripe__balance_transactions') }}

),

-- Staged records that move no money (explicitly excused above) count as reached.
excused as (

    select staged.raw_table, staged.raw_key
    from staged
    where not exists (
        select 1 from expected
        where expected.raw_table = staged.raw_table and expected.raw_key = staged.raw_key
    )
        and staged.raw_table in ('charges', 'refunds', 'payouts', 'disputes')

),

reached as (

    select distinct expected.raw_table, expected.raw_key
    from expected
    inner join payments on expected.payment_id = payments.payment_id

)

select distinct
    raw_records.raw_table,
    raw_records.raw_key

from raw_records
where not exists (
        select 1 from reached
        where reached.raw_table = raw_records.raw_table and reached.raw_key = raw_records.raw_key
    )
    and not exists (
        select 1 from excused
        where excused.raw_table = raw_records.raw_table and excused.raw_key = raw_records.raw_key
    )
    and not exists (select 1 from quarantined where quarantined.record_id = raw_records.raw_key)
