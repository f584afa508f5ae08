-- Stripe balance transactions as settlement lines (contract: marts/finance settlement_lines), one per
-- balance transaction listed under a payout. The payout's own `payout` transaction is the transfer
-- itself (int_stripe__payouts), not a line it settles.
--
-- Stripe signs from its balance's side, which is also the retailer's: a charge positive, a refund or a
-- dispute withdrawal negative. payment_reference is the balance transaction's source (charge, refund or
-- dispute id), which is how int_stripe__payments names those events (provider_reference).
with

balance_transactions as (

    select * from {{ ref('stg_stripe__balance_transactions') }}
    where balance_transaction_type <> 'payout'
        and payout_id is not null

),

charges as (

    select charge_id, order_id from {{ ref('stg_stripe__charges') }}

),

refunds as (

    select refund_id, charge_id, order_id from {{ ref('stg_stripe__refunds') }}

),

disputes as (

    select dispute_id, charge_id from {{ ref('stg_stripe__disputes') }}

),

classified as (

    select
        balance_transactions.*,
        case
            when balance_transactions.balance_transaction_type in ('charge', 'payment') then 'sale'
            when balance_transactions.balance_transaction_type in ('refund', 'payment_refund') then 'refund'
            -- Stripe types a dispute's movements as adjustments; the reporting category tells them apart,
            -- and the sign which way the money went (as int_stripe__payments does).
            when balance_transactions.reporting_category in ('dispute', 'dispute_reversal')
                then case when balance_transactions.amount > 0 then 'chargeback_reversal' else 'chargeback' end
            when balance_transactions.balance_transaction_type in ('stripe_fee', 'stripe_fx_fee', 'tax_fee')
                then 'fee'
            -- A failed payout's amount coming back to the balance belongs to no sale.
            when balance_transactions.balance_transaction_type in ('adjustment', 'payout_failure', 'payout_cancel')
                then 'adjustment'
            when balance_transactions.balance_transaction_type = 'payment_network_reserve_hold' then 'reserve_hold'
            when balance_transactions.balance_transaction_type = 'payment_network_reserve_release'
                then 'reserve_release'
            -- Types Stripe adds, or products the account turns on later: kept, queued for a person to classify.
            else 'other'
        end as line_type

    from balance_transactions

),

linked as (

    select
        classified.*,
        coalesce(charges.order_id, refunds.order_id, refunded_charges.order_id, disputed_charges.order_id)
            as order_id

    from classified
    left join charges
        on classified.line_type = 'sale'
        and classified.source_id = charges.charge_id
    left join refunds
        on classified.line_type = 'refund'
        and classified.source_id = refunds.refund_id
    left join charges as refunded_charges
        on refunds.charge_id = refunded_charges.charge_id
    left join disputes
        on classified.line_type in ('chargeback', 'chargeback_reversal')
        and classified.source_id = disputes.dispute_id
    left join charges as disputed_charges
        on disputes.charge_id = disputed_charges.charge_id

)

select
    {{ id_text('balance_transaction_id') }} as settlement_line_id,
    'stripe' as provider,
    {{ id_text('payout_id') }} as payout_id,
    line_type,
    case
        when line_type in ('chargeback', 'chargeback_reversal') and fee_amount <> 0 then 'chargeback_fee'
        when line_type = 'fee' and balance_transaction_type = 'tax_fee' then 'other'
        when line_type = 'fee' then 'processing'
        when fee_amount <> 0 then 'processing'
    end as fee_kind,
    {{ id_text('order_id') }} as order_reference,
    {{ id_text('source_id') }} as payment_reference,
    -- A Stripe fee transaction debits its whole amount as a fee: gross 0, so Stripe's net stays the net.
    {{ as_money("case when line_type = 'fee' then 0 else amount end") }} as gross_amount,
    {{ as_money("case when line_type = 'fee' then fee_amount - amount else fee_amount end") }} as fee_amount,
    -- Recomputed rather than taken from Stripe's stated net, so lines, journals and tie-outs agree by construction.
    {{ as_money('amount - fee_amount') }} as net_amount,
    currency,
    created_at as posted_at,
    case
        when order_id is not null then '{{ var("stripe_channel_id", var("shopify_channel_id")) }}:order:' || order_id
    end as correlation_id

from linked
