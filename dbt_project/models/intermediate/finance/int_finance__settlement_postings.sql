{#- What each source record contributes to its payout's settlement journal, one row per record and
    posting role, signed debit-positive. Summed per role this is the journal; kept per record it is
    the drill-down from a journal line to what it summarises.

    The bank line is the payout's STATED amount, not the sum of its lines: when the provider's data
    is inconsistent the journal must come out unbalanced (and be stopped), never silently plugged. -#}
with

postable_payouts as (

    select * from {{ ref('stg_shopify__payouts') }}
    where payout_status in (
        {%- for status in var('postable_payout_statuses') %}'{{ status }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )

),

settlement_lines as (

    select settlement_lines.*
    from {{ ref('settlement_lines') }} as settlement_lines
    inner join postable_payouts
        on settlement_lines.payout_id = postable_payouts.payout_id
    -- Postings cover Shopify Payments until the other providers' GL mapping is in (issue 7).
    where settlement_lines.provider = 'shopify_payments'

),

sales_channel as (

    select * from {{ ref('int_shopify__sales_channel') }}

),

bank as (

    select
        sales_channel.provider,
        postable_payouts.payout_id,
        'bank' as posting_role,
        1 as role_order,
        'payout' as source_type,
        postable_payouts.payout_id as source_id,
        cast(null as varchar) as correlation_id,
        postable_payouts.amount as signed_amount,
        postable_payouts.currency

    from postable_payouts
    cross join sales_channel

),

processing_fees as (

    select
        provider,
        payout_id,
        'processing_fees' as posting_role,
        2 as role_order,
        'settlement_line' as source_type,
        settlement_line_id as source_id,
        correlation_id,
        fee_amount as signed_amount,
        currency

    from settlement_lines
    where fee_amount <> 0

),

clearing as (

    -- Sales and refunds settled: relieves the clearing account that the sales journal filled.
    select
        provider,
        payout_id,
        'clearing' as posting_role,
        3 as role_order,
        'settlement_line' as source_type,
        settlement_line_id as source_id,
        correlation_id,
        -gross_amount as signed_amount,
        currency

    from settlement_lines
    where line_type in ('sale', 'refund')

),

adjustments as (

    select
        provider,
        payout_id,
        'adjustments' as posting_role,
        4 as role_order,
        'settlement_line' as source_type,
        settlement_line_id as source_id,
        correlation_id,
        -gross_amount as signed_amount,
        currency

    from settlement_lines
    where line_type not in ('sale', 'refund')

),

all_postings as (

    select * from bank
    union all
    select * from processing_fees
    union all
    select * from clearing
    union all
    select * from adjustments

)

select
    {{ settlement_batch_id('provider', 'payout_id') }} as batch_id,
    provider,
    payout_id,
    posting_role,
    role_order,
    source_type,
    source_id,
    correlation_id,
    signed_amount,
    currency

from all_postings
