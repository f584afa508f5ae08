{#- One settlement journal batch per postable payout. The totals come from the journal lines; a batch
    whose payout's stated amount differs from its lines' net comes out unbalanced and the posting
    gate in Dagster refuses to export it. -#}
with

postable_payouts as (

    select * from {{ ref('stg_shopify__payouts') }}
    where payout_status in (
        {%- for status in var('postable_payout_statuses') %}'{{ status }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )

),

sales_channel as (

    select * from {{ ref('int_shopify__sales_channel') }}

),

journal_lines as (

    select * from {{ ref('journal_lines') }}

),

batch_totals as (

    select
        batch_id,
        sum(debit_amount) as total_debit,
        sum(credit_amount) as total_credit,
        count(*) as line_count

    from journal_lines
    group by batch_id

),

batches as (

    select
        {{ settlement_batch_id('sales_channel.provider', 'postable_payouts.payout_id') }} as batch_id,
        sales_channel.legal_entity_id,
        sales_channel.provider,
        postable_payouts.payout_id,
        postable_payouts.payout_date,
        postable_payouts.currency

    from postable_payouts
    cross join sales_channel

)

select
    batches.batch_id,
    batches.legal_entity_id,
    'settlement' as journal_type,
    batches.provider,
    batches.payout_id,
    batches.payout_date as posting_date,
    batches.currency,
    {{ as_money('coalesce(batch_totals.total_debit, 0)') }} as total_debit,
    {{ as_money('coalesce(batch_totals.total_credit, 0)') }} as total_credit,
    coalesce(batch_totals.total_debit, 0) = coalesce(batch_totals.total_credit, 0) as is_balanced,
    cast(coalesce(batch_totals.line_count, 0) as integer) as line_count

from batches
left join batch_totals
    on batches.batch_id = batch_totals.batch_id
