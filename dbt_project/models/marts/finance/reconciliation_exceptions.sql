{#- The exception queue: one row per item that needs a person, with exactly one reason, the most
    specific that applies. Matched lines with no variance, adjustments and captures still inside the
    payout delay are not exceptions. -#}
with

settlement_lines as (

    select * from {{ ref('settlement_lines') }}

),

settlement_matches as (

    select * from {{ ref('settlement_matches') }}

),

payments as (

    select * from {{ ref('payments') }}

),

orders as (

    -- Shopify Payments settles the web shop's orders only.
    select order_id from {{ ref('orders') }}
    where channel_id = '{{ var("shopify_channel_id") }}'

),

payouts as (

    select * from {{ ref('stg_shopify__payouts') }}

),

unmatched_lines as (

    select settlement_lines.*
    from settlement_lines
    where not exists (
        select 1 from settlement_matches
        where settlement_matches.settlement_line_id = settlement_lines.settlement_line_id
    )

),

amount_mismatches as (

    select
        'amount_mismatch' as reason_code,
        settlement_matches.provider,
        'settlement_line' as reference_type,
        settlement_matches.settlement_line_id as reference_id,
        settlement_matches.order_id,
        settlement_lines.payout_id,
        -- the amount at stake is the difference, not the whole line
        settlement_matches.variance as amount,
        settlement_matches.currency,
        'settled ' || cast(settlement_matches.settlement_amount as varchar)
            || ' against payment ' || settlement_matches.payment_id
            || ' of ' || cast(settlement_matches.payment_amount as varchar) as detail

    from settlement_matches
    inner join settlement_lines
        on settlement_matches.settlement_line_id = settlement_lines.settlement_line_id
    where settlement_matches.variance <> 0

),

unmatched_charges_and_refunds as (

    select
        case
            when unmatched_lines.line_type = 'refund' and orders.order_id is null then 'refund_without_order'
            else 'unmatched_settlement_line'
        end as reason_code,
        unmatched_lines.provider,
        'settlement_line' as reference_type,
        unmatched_lines.settlement_line_id as reference_id,
        unmatched_lines.order_reference as order_id,
        unmatched_lines.payout_id,
        unmatched_lines.gross_amount as amount,
        unmatched_lines.currency,
        case
            when unmatched_lines.line_type = 'refund' and orders.order_id is null
                then 'refund for order ' || coalesce(unmatched_lines.order_reference, '(none)') || ', which is not in orders'
            else unmatched_lines.line_type || ' line matches no payment (reference '
                || coalesce(unmatched_lines.payment_reference, '(none)') || ')'
        end as detail

    from unmatched_lines
    left join orders
        on unmatched_lines.order_reference = orders.order_id
    where unmatched_lines.line_type in ('charge', 'refund')

),

unclassified_lines as (

    -- A balance transaction type the model does not know: posted to adjustments so the journal
    -- balances, and queued so a person classifies it.
    select
        'unclassified_settlement_line' as reason_code,
        provider,
        'settlement_line' as reference_type,
        settlement_line_id as reference_id,
        order_reference as order_id,
        payout_id,
        gross_amount as amount,
        currency,
        'settlement line of an unknown type, posted to adjustments' as detail

    from unmatched_lines
    where line_type = 'other'

),

settled_through as (

    -- Captures on or before this business date should have been paid out by now.
    select max(payout_date) - {{ var('payout_delay_days') }} as business_date
    from payouts

),

unsettled_captures as (

    select
        'captured_not_settled' as reason_code,
        payments.provider,
        'payment' as reference_type,
        payments.payment_id as reference_id,
        payments.order_id,
        cast(null as varchar) as payout_id,
        payments.gross_amount as amount,
        payments.currency,
        payments.event_type || ' of ' || cast(payments.business_date as varchar)
            || ' is in no payout' as detail

    from payments
    cross join settled_through
    where payments.event_type in ('capture', 'sale')
        -- Only the provider's own payouts are in the data; other gateways settle elsewhere.
        and payments.provider = 'shopify_payments'
        and payments.business_date <= settled_through.business_date
        and not exists (
            select 1 from settlement_matches
            where settlement_matches.payment_id = payments.payment_id
        )

),

all_exceptions as (

    select * from amount_mismatches
    union all
    select * from unmatched_charges_and_refunds
    union all
    select * from unclassified_lines
    union all
    select * from unsettled_captures

)

select
    {{ hash_id(['reason_code', 'reference_type', 'reference_id']) }} as exception_id,
    reason_code,
    provider,
    reference_type,
    reference_id,
    order_id,
    payout_id,
    {{ as_money('amount') }} as amount,
    currency,
    detail

from all_exceptions
