{#- One settlement journal batch per postable payout of every provider, and one COGS journal per legal entity,
    location and business date, each ready for the ERP or held with the reasons (docs/postings.md). The totals come from the journal lines; a batch whose payout's stated amount
    differs from its lines' net comes out unbalanced and is held, as is one whose bank line is not what
    reached the bank, or whose payout has an open exception of a blocking kind. -#}
with

payouts as (

    select * from {{ ref('payouts') }}
    where payout_status in (
        {%- for status in var('postable_payout_statuses') %}'{{ status }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )

),

provider_entities as (

    -- the legal entity whose channel a provider settles (a PSP no channel names: the default entity)
    select provider, min(legal_entity_id) as legal_entity_id
    from {{ ref('sales_channels') }}
    group by provider

),

batch_totals as (

    select
        batch_id,
        sum(debit_amount) as total_debit,
        sum(credit_amount) as total_credit,
        count(*) as line_count

    from {{ ref('journal_lines') }}
    group by batch_id

),

blocking_exceptions as (

    select distinct provider, payout_id
    from {{ ref('reconciliation_exceptions') }}
    where reason_code in ({% for reason in var('blocking_exception_reasons') %}'{{ reason }}'{% if not loop.last %}, {% endif %}{% endfor %})
        and payout_id is not null

),

batches as (

    select
        {{ settlement_batch_id('payouts.provider', 'payouts.payout_id') }} as batch_id,
        coalesce(provider_entities.legal_entity_id, '{{ var("default_legal_entity_id") }}') as legal_entity_id,
        payouts.provider,
        payouts.payout_id,
        payouts.payout_date,
        payouts.currency,
        payouts.deposit_status,
        coalesce(batch_totals.total_debit, 0) as total_debit,
        coalesce(batch_totals.total_credit, 0) as total_credit,
        coalesce(batch_totals.line_count, 0) as line_count,
        blocking_exceptions.payout_id is not null as has_blocking_exception

    from payouts
    left join provider_entities
        on provider_entities.provider = payouts.provider
    left join batch_totals
        on batch_totals.batch_id = {{ settlement_batch_id('payouts.provider', 'payouts.payout_id') }}
    left join blocking_exceptions
        on blocking_exceptions.provider = payouts.provider
        and blocking_exceptions.payout_id = payouts.payout_id

),

reasons as (

    select
        *,
        concat_ws(', ',
            case when total_debit <> total_credit then 'unbalanced' end,
            case when deposit_status in ('differs', 'missing') then 'bank_differs_from_deposit' end,
            case when deposit_status = 'awaiting' then 'awaiting_deposit' end,
            case when has_blocking_exception then 'open_blocking_exception' end
        ) as blocked_reasons

    from batches

),

cogs_batches as (

    select
        postings.batch_id,
        min(postings.legal_entity_id) as legal_entity_id,
        min(postings.location_id) as location_id,
        min(postings.business_date) as posting_date,
        min(postings.currency) as currency,
        coalesce(min(batch_totals.total_debit), 0) as total_debit,
        coalesce(min(batch_totals.total_credit), 0) as total_credit,
        coalesce(min(batch_totals.line_count), 0) as line_count,
        -- movements of an item the ERP has no cost for: booking the rest would understate the day's COGS
        count(*) - count(postings.signed_amount) as uncosted_postings

    from {{ ref('int_finance__cogs_postings') }} as postings
    left join batch_totals
        on batch_totals.batch_id = postings.batch_id
    group by postings.batch_id
    -- a day whose shipments and restocks net to nothing has no lines and no batch
    having min(batch_totals.batch_id) is not null or count(*) > count(postings.signed_amount)

)

select
    batch_id,
    legal_entity_id,
    'settlement' as journal_type,
    provider,
    payout_id,
    cast(null as varchar) as location_id,
    payout_date as posting_date,
    currency,
    {{ as_money('total_debit') }} as total_debit,
    {{ as_money('total_credit') }} as total_credit,
    total_debit = total_credit as is_balanced,
    cast(line_count as integer) as line_count,
    case when blocked_reasons = '' then 'ready' else 'blocked' end as status,
    nullif(blocked_reasons, '') as blocked_reason

from reasons

union all

select
    batch_id,
    legal_entity_id,
    'cogs' as journal_type,
    cast(null as varchar) as provider,
    cast(null as varchar) as payout_id,
    location_id,
    posting_date,
    currency,
    {{ as_money('total_debit') }} as total_debit,
    {{ as_money('total_credit') }} as total_credit,
    total_debit = total_credit as is_balanced,
    cast(line_count as integer) as line_count,
    case when total_debit = total_credit and uncosted_postings = 0 then 'ready' else 'blocked' end as status,
    nullif(concat_ws(', ',
        case when total_debit <> total_credit then 'unbalanced' end,
        case when uncosted_postings > 0 then 'missing_erp_cost' end
    ), '') as blocked_reason

from cogs_batches
