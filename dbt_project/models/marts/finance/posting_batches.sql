{#- Every journal batch, ready for the ERP or held with the reasons (docs/postings.md): settlement journals
    (one per postable payout, and one per earlier month its lines were posted in), sales journals (entity,
    channel, location, business date) and COGS journals (entity, location, business date). Totals come from
    the journal lines. A payout whose stated amount differs from its lines' net comes out unbalanced and is
    held, as is one whose bank line is not what reached the bank, or that has an open exception of a
    blocking kind; every batch of a payout shares its reasons. -#}
with

payouts as (

    select * from {{ ref('payouts') }}
    where payout_status in (
        {%- for status in var('postable_payout_statuses') %}'{{ status }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )

),

settlement_postings as (

    select * from {{ ref('int_finance__settlement_postings') }}

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

payout_nets as (

    select provider, payout_id, sum(signed_amount) as net_amount
    from settlement_postings
    group by provider, payout_id

),

payout_reasons as (

    select
        payouts.provider,
        payouts.payout_id,
        concat_ws(', ',
            case when coalesce(payout_nets.net_amount, 0) <> 0 then 'unbalanced' end,
            case when payouts.deposit_status in ('differs', 'missing') then 'bank_differs_from_deposit' end,
            case when payouts.deposit_status = 'awaiting' then 'awaiting_deposit' end,
            case when blocking_exceptions.payout_id is not null then 'open_blocking_exception' end
        ) as blocked_reasons

    from payouts
    left join payout_nets
        on payout_nets.provider = payouts.provider
        and payout_nets.payout_id = payouts.payout_id
    left join blocking_exceptions
        on blocking_exceptions.provider = payouts.provider
        and blocking_exceptions.payout_id = payouts.payout_id

),

settlement_batches as (

    select batch_id, legal_entity_id, provider, payout_id, posting_date, currency
    from settlement_postings
    union
    -- a payout with nothing to book still has its (empty) batch
    select
        {{ settlement_batch_id('payouts.provider', 'payouts.payout_id') }},
        coalesce(min(settlement_postings.legal_entity_id), '{{ var("default_legal_entity_id") }}'),
        payouts.provider, payouts.payout_id, payouts.payout_date, payouts.currency
    from payouts
    left join settlement_postings
        on settlement_postings.provider = payouts.provider
        and settlement_postings.payout_id = payouts.payout_id
    group by payouts.provider, payouts.payout_id, payouts.payout_date, payouts.currency

),

sales_batches as (

    select
        batch_id,
        min(legal_entity_id) as legal_entity_id,
        min(channel_id) as channel_id,
        min(location_id) as location_id,
        min(business_date) as posting_date,
        min(currency) as currency,
        -- a provider or role the GL maps do not know: booking the rest would misstate the day
        count(*) - count(account_code) as unmapped_postings

    from {{ ref('int_finance__sales_postings') }}
    group by batch_id

),

cogs_batches as (

    select
        batch_id,
        min(legal_entity_id) as legal_entity_id,
        min(location_id) as location_id,
        min(business_date) as posting_date,
        min(currency) as currency,
        -- movements of an item the ERP has no cost for: booking the rest would understate the day's COGS
        count(*) - count(signed_amount) as uncosted_postings

    from {{ ref('int_finance__cogs_postings') }}
    group by batch_id

),

batches as (

    select
        settlement_batches.batch_id,
        settlement_batches.legal_entity_id,
        'settlement' as journal_type,
        settlement_batches.provider,
        settlement_batches.payout_id,
        cast(null as varchar) as channel_id,
        cast(null as varchar) as location_id,
        settlement_batches.posting_date,
        settlement_batches.currency,
        payout_reasons.blocked_reasons

    from settlement_batches
    inner join payout_reasons
        on payout_reasons.provider = settlement_batches.provider
        and payout_reasons.payout_id = settlement_batches.payout_id

    union all

    select
        batch_id, legal_entity_id, 'sales', cast(null as varchar), cast(null as varchar), channel_id, location_id,
        posting_date, currency,
        case when unmapped_postings > 0 then 'unmapped_account' else '' end
    from sales_batches

    union all

    select
        batch_id, legal_entity_id, 'cogs', cast(null as varchar), cast(null as varchar), cast(null as varchar),
        location_id, posting_date, currency,
        case when uncosted_postings > 0 then 'missing_erp_cost' else '' end
    from cogs_batches

),

totalled as (

    select
        batches.*,
        coalesce(batch_totals.total_debit, 0) as total_debit,
        coalesce(batch_totals.total_credit, 0) as total_credit,
        coalesce(batch_totals.line_count, 0) as line_count,
        -- unbalanced here is the batch's own: a payout's is already among its reasons
        case
            when coalesce(batch_totals.total_debit, 0) <> coalesce(batch_totals.total_credit, 0)
                and batches.blocked_reasons not like '%unbalanced%' then 'unbalanced'
        end as own_imbalance

    from batches
    left join batch_totals
        on batch_totals.batch_id = batches.batch_id
    -- a sales or COGS day that nets to nothing has no lines and no batch, unless something holds it
    where batches.journal_type = 'settlement'
        or batch_totals.batch_id is not null
        or batches.blocked_reasons <> ''

),

reasoned as (

    select
        *,
        concat_ws(', ', own_imbalance, nullif(blocked_reasons, '')) as all_reasons

    from totalled

)

select
    reasoned.batch_id,
    reasoned.legal_entity_id,
    reasoned.journal_type,
    reasoned.provider,
    reasoned.payout_id,
    reasoned.channel_id,
    reasoned.location_id,
    reasoned.posting_date,
    cast(date_trunc('month', reasoned.posting_date) as date) as accounting_period,
    reasoned.currency,
    entities.functional_currency,
    {{ as_money('reasoned.total_debit') }} as total_debit,
    {{ as_money('reasoned.total_credit') }} as total_credit,
    reasoned.total_debit = reasoned.total_credit as is_balanced,
    cast(reasoned.line_count as integer) as line_count,
    case when reasoned.all_reasons = '' then 'ready' else 'blocked' end as status,
    nullif(reasoned.all_reasons, '') as blocked_reason

from reasoned
inner join {{ ref('legal_entities') }} as entities
    on entities.legal_entity_id = reasoned.legal_entity_id
