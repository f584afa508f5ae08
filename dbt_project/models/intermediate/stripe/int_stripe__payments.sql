-- Stripe's payment events for the canonical payments mart (provider 'stripe'), from Stripe's own
-- objects. The web shop also records its Stripe-paid orders as Shopify transactions (gateway
-- 'stripe'); int_shopify__payments leaves those out (var psp_gateways_read_directly), so these are
-- the only payment events of those orders.
--
-- One row per event, signed from the retailer's side (money from the customer positive):
--   capture              a captured charge: gross = amount captured, fee = its balance transaction's fee
--   refund               a refund that did not fail: gross = -amount, fee from its balance transaction (usually 0)
--   chargeback           a dispute's withdrawal balance transaction: gross = its (negative) amount, fee = the dispute fee
--   chargeback_reversal  a won dispute's reinstatement balance transaction: gross positive
--   adjustment           any other `adjustment` balance transaction (not a dispute's)
--   fee                  a Stripe fee balance transaction (stripe_fee, stripe_fx_fee, tax_fee): gross 0
--   reserve_hold/_release  payment network reserve balance transactions
--   payout               a payout that has not failed or been canceled: gross = -amount (money
--                        leaving the Stripe balance for the retailer's bank), fee = its own balance
--                        transaction's fee (instant payouts), occurred when the payout was created.
-- A fee is known from the balance transaction, which Stripe lists only by payout: a charge or
-- refund whose payout has not been pulled yet has fee 0 until it has.
with

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

refunds as (

    select * from {{ ref('stg_stripe__refunds') }}

),

disputes as (

    select * from {{ ref('stg_stripe__disputes') }}

),

dispute_balance_transactions as (

    select * from {{ ref('stg_stripe__dispute_balance_transactions') }}

),

balance_transactions as (

    select * from {{ ref('stg_stripe__balance_transactions') }}

),

payouts as (

    select * from {{ ref('stg_stripe__payouts') }}

),

-- A dispute's movements: embedded in the dispute, and listed by payout once paid out (a dispute
-- opened before the pulled days is known by its balance transaction alone).
dispute_movements as (

    select
        balance_transaction_id,
        dispute_id,
        amount,
        fee_amount,
        currency,
        created_at

    from dispute_balance_transactions

    union all

    select
        balance_transactions.balance_transaction_id,
        balance_transactions.source_id as dispute_id,
        balance_transactions.amount,
        balance_transactions.fee_amount,
        balance_transactions.currency,
        balance_transactions.created_at

    from balance_transactions
    where balance_transactions.reporting_category in ('dispute', 'dispute_reversal')
        and not exists (
            select 1 from dispute_balance_transactions
            where dispute_balance_transactions.balance_transaction_id = balance_transactions.balance_transaction_id
        )

),

captures as (

    select
        charges.charge_id as payment_id,
        charges.charge_id as provider_reference,
        true as is_channel_payment,
        charges.order_id,
        'capture' as event_type,
        'card' as tender_type,
        charges.amount_captured as gross_amount,
        coalesce(charge_transactions.fee_amount, 0) as fee_amount,
        charges.currency,
        charges.created_at as occurred_at

    from charges
    left join balance_transactions as charge_transactions
        on charges.balance_transaction_id = charge_transactions.balance_transaction_id
    -- Failed, pending and uncaptured charges moved no money.
    where charges.charge_status = 'succeeded'
        and charges.is_captured
        and charges.amount_captured > 0

),

refund_events as (

    select
        refunds.refund_id as payment_id,
        refunds.refund_id as provider_reference,
        true as is_channel_payment,
        coalesce(refunds.order_id, charges.order_id) as order_id,
        'refund' as event_type,
        'card' as tender_type,
        -refunds.amount as gross_amount,
        coalesce(refund_transactions.fee_amount, 0) as fee_amount,
        refunds.currency,
        refunds.created_at as occurred_at

    from refunds
    left join charges
        on refunds.charge_id = charges.charge_id
    left join balance_transactions as refund_transactions
        on refunds.balance_transaction_id = refund_transactions.balance_transaction_id
    -- A failed or canceled refund gave nothing back (Stripe reverses its balance transaction).
    where coalesce(refunds.refund_status, 'succeeded') not in ('failed', 'canceled')

),

chargebacks as (

    select
        dispute_movements.balance_transaction_id as payment_id,
        dispute_movements.dispute_id as provider_reference,
        true as is_channel_payment,
        charges.order_id,
        case when dispute_movements.amount > 0 then 'chargeback_reversal' else 'chargeback' end as event_type,
        'card' as tender_type,
        dispute_movements.amount as gross_amount,
        dispute_movements.fee_amount,
        dispute_movements.currency,
        dispute_movements.created_at as occurred_at

    from dispute_movements
    left join disputes
        on dispute_movements.dispute_id = disputes.dispute_id
    left join charges
        on disputes.charge_id = charges.charge_id

),

balance_events as (

    -- Movements of the balance that belong to no charge, refund, dispute or payout.
    select
        balance_transactions.balance_transaction_id as payment_id,
        coalesce(balance_transactions.source_id, balance_transactions.balance_transaction_id) as provider_reference,
        false as is_channel_payment,
        cast(null as varchar) as order_id,
        case
            when balance_transactions.balance_transaction_type = 'adjustment' then 'adjustment'
            when balance_transactions.balance_transaction_type = 'payment_network_reserve_hold' then 'reserve_hold'
            when balance_transactions.balance_transaction_type = 'payment_network_reserve_release' then 'reserve_release'
            else 'fee'
        end as event_type,
        'other' as tender_type,
        case
            when balance_transactions.balance_transaction_type in ('stripe_fee', 'stripe_fx_fee', 'tax_fee') then 0
            else balance_transactions.amount
        end as gross_amount,
        -- A pure fee's whole debit is what Stripe keeps: net stays Stripe's net either way.
        case
            when balance_transactions.balance_transaction_type in ('stripe_fee', 'stripe_fx_fee', 'tax_fee')
                then balance_transactions.fee_amount - balance_transactions.amount
            else balance_transactions.fee_amount
        end as fee_amount,
        balance_transactions.currency,
        balance_transactions.created_at as occurred_at

    from balance_transactions
    where balance_transactions.balance_transaction_type in (
            'adjustment', 'stripe_fee', 'stripe_fx_fee', 'tax_fee',
            'payment_network_reserve_hold', 'payment_network_reserve_release'
        )
        and coalesce(balance_transactions.reporting_category, '') not in ('dispute', 'dispute_reversal')
        and not exists (
            select 1 from dispute_movements
            where dispute_movements.balance_transaction_id = balance_transactions.balance_transaction_id
        )

),

payout_events as (

    select
        payouts.payout_id as payment_id,
        payouts.payout_id as provider_reference,
        false as is_channel_payment,
        cast(null as varchar) as order_id,
        'payout' as event_type,
        'other' as tender_type,
        -- Money leaving the Stripe balance for the retailer's bank: negative, like a refund.
        -payouts.amount as gross_amount,
        coalesce(payout_transactions.fee_amount, 0) as fee_amount,
        payouts.currency,
        payouts.created_at as occurred_at

    from payouts
    left join balance_transactions as payout_transactions
        on payouts.balance_transaction_id = payout_transactions.balance_transaction_id
    -- A failed or canceled payout returned its amount to the balance: nothing left it.
    where payouts.payout_status not in ('failed', 'canceled')

),

events as (

    select * from captures
    union all
    select * from refund_events
    union all
    select * from chargebacks
    union all
    select * from balance_events
    union all
    select * from payout_events

),

channels as (

    select channel_id, legal_entity_id from {{ ref('sales_channels') }}

),

entities as (

    select legal_entity_id, time_zone from {{ ref('legal_entities') }}

),

placed as (

    select
        events.*,
        -- The sales channel whose checkout charges through this Stripe account (the web shop).
        case when events.is_channel_payment then '{{ var("stripe_channel_id", var("shopify_channel_id")) }}' end
            as channel_id

    from events

),

dated as (

    select
        placed.*,
        entities.time_zone

    from placed
    left join channels
        on placed.channel_id = channels.channel_id
    inner join entities
        on entities.legal_entity_id = coalesce(channels.legal_entity_id, '{{ var("default_legal_entity_id") }}')

)

select
    payment_id,
    'stripe' as provider,
    provider_reference,
    channel_id,
    order_id,
    event_type,
    tender_type,
    {{ as_money('gross_amount') }} as gross_amount,
    {{ as_money('fee_amount') }} as fee_amount,
    {{ as_money('gross_amount - fee_amount') }} as net_amount,
    currency,
    occurred_at,
    {{ local_date('occurred_at', 'time_zone') }} as business_date,
    case
        when order_id is not null and channel_id is not null then channel_id || ':order:' || order_id
        else 'stripe:payment:' || payment_id
    end as correlation_id

from dated
