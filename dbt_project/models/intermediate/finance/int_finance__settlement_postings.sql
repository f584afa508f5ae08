{#- What each source record contributes to its payout's settlement journal, for every provider: one row per
    record and posting role, signed debit-positive, with the GL account of seeds/gl_settlement_map. Summed per
    account this is the journal; kept per record it is the drill-down from a journal line to what it sums.

    The bank line is the payout's STATED amount, not the sum of its lines: when the provider's data is
    inconsistent the journal must come out unbalanced (and be held), never silently plugged. -#}
with

payouts as (

    select * from {{ ref('payouts') }}
    where payout_status in (
        {%- for status in var('postable_payout_statuses') %}'{{ status }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )

),

settlement_lines as (

    select settlement_lines.*
    from {{ ref('settlement_lines') }} as settlement_lines
    inner join payouts
        on settlement_lines.provider = payouts.provider
        and settlement_lines.payout_id = payouts.payout_id

),

accounts as (

    select * from {{ ref('gl_settlement_map') }}

),

bank as (

    select
        provider,
        payout_id,
        'bank' as posting_role,
        cast(null as varchar) as fee_kind,
        'payout' as source_type,
        payout_id as source_id,
        cast(null as varchar) as correlation_id,
        stated_amount as signed_amount,
        currency

    from payouts

),

fees as (

    select
        provider,
        payout_id,
        'fees' as posting_role,
        fee_kind,
        'settlement_line' as source_type,
        settlement_line_id as source_id,
        correlation_id,
        fee_amount as signed_amount,
        currency

    from settlement_lines
    where fee_amount <> 0

),

settled_amounts as (

    -- The gross of each line relieves the account its kind of money sits in until the provider pays.
    select
        provider,
        payout_id,
        case
            when line_type in ('sale', 'refund') then 'clearing'
            when line_type in ('chargeback', 'chargeback_reversal') then 'chargebacks'
            when line_type in ('reserve_hold', 'reserve_release') then 'reserves'
            else 'adjustments'
        end as posting_role,
        cast(null as varchar) as fee_kind,
        'settlement_line' as source_type,
        settlement_line_id as source_id,
        correlation_id,
        -gross_amount as signed_amount,
        currency

    from settlement_lines
    where gross_amount <> 0

),

postings as (

    select * from bank
    union all
    select * from fees
    union all
    select * from settled_amounts

)

select
    {{ settlement_batch_id('postings.provider', 'postings.payout_id') }} as batch_id,
    postings.provider,
    postings.payout_id,
    postings.posting_role,
    case postings.posting_role
        when 'bank' then 1 when 'clearing' then 2 when 'fees' then 3
        when 'chargebacks' then 4 when 'reserves' then 5 else 6
    end as role_order,
    postings.fee_kind,
    -- a fee kind of its own in the map wins over the provider's fee account
    coalesce(for_kind.account_code, for_role.account_code) as account_code,
    postings.source_type,
    postings.source_id,
    postings.correlation_id,
    postings.signed_amount,
    postings.currency

from postings
left join accounts as for_kind
    on for_kind.provider = postings.provider
    and for_kind.posting_role = postings.posting_role
    and for_kind.fee_kind = postings.fee_kind
left join accounts as for_role
    on for_role.provider = postings.provider
    and for_role.posting_role = postings.posting_role
    and for_role.fee_kind is null
