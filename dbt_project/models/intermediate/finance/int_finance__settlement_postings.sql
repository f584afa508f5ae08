{#- What each source record contributes to its payout's settlement journal, for every provider: one row per
    record and posting role, signed debit-positive, with the GL account of seeds/gl_settlement_map. Summed per
    account this is the journal; kept per record it is the drill-down from a journal line to what it sums.

    Periods: a line posted in a month before the payout's is booked in a batch of its own month, dated that
    month's last day, which a roll_forward line (payouts in transit) balances; the payout's batch takes the
    roll-forward back. So each month closes on its own, and the payout's batch balances exactly when the
    payout does.

    The bank line is the payout's STATED amount, not the sum of its lines: when the provider's data is
    inconsistent the journal must come out unbalanced (and be held), never silently plugged. -#}
with

payouts as (

    select * from {{ ref('payouts') }}
    where payout_status in (
        {%- for status in var('postable_payout_statuses') %}'{{ status }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )

),

provider_entities as (

    -- the legal entity whose channel a provider settles (a PSP no channel names: the default entity),
    -- whose time zone decides the month a line was posted in
    select
        settlement_providers.provider,
        coalesce(min(channels.legal_entity_id), '{{ var("default_legal_entity_id") }}') as legal_entity_id
    from {{ ref('settlement_providers') }} as settlement_providers
    left join {{ ref('sales_channels') }} as channels
        on channels.provider = settlement_providers.provider
    group by settlement_providers.provider

),

provider_time_zones as (

    select provider_entities.provider, provider_entities.legal_entity_id, entities.time_zone
    from provider_entities
    inner join {{ ref('legal_entities') }} as entities
        on entities.legal_entity_id = provider_entities.legal_entity_id

),

settlement_lines as (

    select
        settlement_lines.*,
        cast(date_trunc('month', payouts.payout_date) as date) as payout_period,
        cast(date_trunc('month', {{ local_date('settlement_lines.posted_at', 'provider_time_zones.time_zone') }}) as date)
            as posted_period
    from {{ ref('settlement_lines') }} as settlement_lines
    inner join payouts
        on settlement_lines.provider = payouts.provider
        and settlement_lines.payout_id = payouts.payout_id
    left join provider_time_zones
        on provider_time_zones.provider = settlement_lines.provider

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
        currency,
        cast(date_trunc('month', payout_date) as date) as period

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
        currency,
        least(posted_period, payout_period) as period

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
        currency,
        least(posted_period, payout_period) as period

    from settlement_lines
    where gross_amount <> 0

),

booked as (

    select * from bank
    union all
    select * from fees
    union all
    select * from settled_amounts

),

earlier_periods as (

    -- what a payout's lines of an earlier month book there
    select booked.provider, booked.payout_id, booked.period, min(booked.currency) as currency,
        sum(booked.signed_amount) as signed_amount
    from booked
    inner join payouts
        on payouts.provider = booked.provider
        and payouts.payout_id = booked.payout_id
    where booked.period < cast(date_trunc('month', payouts.payout_date) as date)
    group by booked.provider, booked.payout_id, booked.period

),

roll_forward as (

    -- payouts in transit: out of the earlier month's batch, into the payout's own
    {%- for side, period, sign in [('out', 'earlier_periods.period', '-'), ('in', "cast(date_trunc('month', payouts.payout_date) as date)", '')] %}
    select
        earlier_periods.provider,
        earlier_periods.payout_id,
        'roll_forward' as posting_role,
        cast(null as varchar) as fee_kind,
        'payout_period' as source_type,
        earlier_periods.payout_id || '|' || cast(earlier_periods.period as varchar) as source_id,
        cast(null as varchar) as correlation_id,
        {{ sign }}earlier_periods.signed_amount as signed_amount,
        earlier_periods.currency,
        {{ period }} as period
    from earlier_periods
    inner join payouts
        on payouts.provider = earlier_periods.provider
        and payouts.payout_id = earlier_periods.payout_id
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

postings as (

    select * from booked
    union all
    select * from roll_forward

)

select
    case
        when postings.period = cast(date_trunc('month', payouts.payout_date) as date)
            then {{ settlement_batch_id('postings.provider', 'postings.payout_id') }}
        else {{ settlement_batch_id('postings.provider', "postings.payout_id || '|' || cast(postings.period as varchar)") }}
    end as batch_id,
    coalesce(provider_time_zones.legal_entity_id, '{{ var("default_legal_entity_id") }}') as legal_entity_id,
    postings.provider,
    postings.payout_id,
    -- the payout's date, or the last day of the earlier month
    case
        when postings.period = cast(date_trunc('month', payouts.payout_date) as date) then payouts.payout_date
        else cast(postings.period + interval '1 month' - interval '1 day' as date)
    end as posting_date,
    postings.posting_role,
    case postings.posting_role
        when 'bank' then 1 when 'clearing' then 2 when 'fees' then 3
        when 'chargebacks' then 4 when 'reserves' then 5 when 'adjustments' then 6 else 7
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
inner join payouts
    on payouts.provider = postings.provider
    and payouts.payout_id = postings.payout_id
left join provider_time_zones
    on provider_time_zones.provider = postings.provider
left join accounts as for_kind
    on for_kind.provider = postings.provider
    and for_kind.posting_role = postings.posting_role
    and for_kind.fee_kind = postings.fee_kind
left join accounts as for_role
    on for_role.provider = postings.provider
    and for_role.posting_role = postings.posting_role
    and for_role.fee_kind is null
