{#- The exception queue as the data shows it now: one row per item and reason that needs a person.
    A settlement line has at most one of chargeback, duplicate_settlement_line, ambiguous_match,
    amount_mismatch, refund_without_order, unmatched_settlement_line and unclassified_settlement_line (the
    first that applies, in that order); fee_mismatch is checked on its own. Matched lines without variance,
    fees, adjustments, reserves and payments still inside their provider's payout delay are not exceptions.
    orchestration/exception_queue.py keeps the persistent queue (first seen, decisions) from this model. -#}
with

settlement_lines as (

    select * from {{ ref('settlement_lines') }}

),

passes as (

    select * from {{ ref('int_finance__settlement_match_passes') }}

),

matches as (

    select * from passes
    where outcome = 'matched'

),

providers as (

    select * from {{ ref('settlement_providers') }}

),

payouts as (

    select * from {{ ref('payouts') }}

),

known_orders as (

    select distinct order_id from {{ ref('orders') }}

),

line_outcomes as (

    -- What matching made of each line: one row per line.
    select
        settlement_lines.*,
        line_outcome.outcome,
        line_outcome.match_rule,
        line_outcome.match_group_key,
        line_outcome.counterpart_id,
        line_outcome.variance

    from settlement_lines
    left join (
        select
            settlement_line_id,
            min(outcome) as outcome,
            min(match_rule) as match_rule,
            min(match_group_key) as match_group_key,
            min(counterpart_id) as counterpart_id,
            min(variance) as variance
        from passes
        group by settlement_line_id
    ) as line_outcome
        on settlement_lines.settlement_line_id = line_outcome.settlement_line_id

),

classified_lines as (

    select
        line_outcomes.*,
        case
            when line_type = 'chargeback' then 'chargeback'
            when outcome = 'duplicate' then 'duplicate_settlement_line'
            when outcome = 'ambiguous' then 'ambiguous_match'
            when match_rule = 'exact_reference' and variance <> 0 then 'amount_mismatch'
            -- a one-line order_reference group is queued below per group, like the multi-line ones
            when outcome = 'matched' then null
            when line_type = 'refund' and known_orders.order_id is null then 'refund_without_order'
            when line_type in ('sale', 'refund', 'chargeback_reversal') then 'unmatched_settlement_line'
            when line_type = 'other' then 'unclassified_settlement_line'
        end as reason_code

    from line_outcomes
    left join known_orders
        on line_outcomes.order_reference = known_orders.order_id

),

line_exceptions as (

    select
        reason_code,
        provider,
        'settlement_line' as reference_type,
        settlement_line_id as reference_id,
        order_reference as order_id,
        payout_id,
        case when reason_code = 'amount_mismatch' then variance else gross_amount end as amount,
        currency,
        case reason_code
            when 'chargeback' then 'chargeback of ' || cast(gross_amount as varchar) || ' for order '
                || coalesce(order_reference, '(none)') || ': respond to the dispute'
            when 'duplicate_settlement_line' then line_type || ' settles ' || coalesce(payment_reference, '(none)')
                || ', which an earlier line already settled'
            when 'ambiguous_match' then line_type || ' of ' || cast(gross_amount as varchar)
                || ' fits two or more payments equally well: not matched'
            when 'amount_mismatch' then 'settled ' || cast(gross_amount as varchar) || ' against payment '
                || counterpart_id || ', a difference of ' || cast(variance as varchar)
            when 'refund_without_order' then 'refund for order ' || coalesce(order_reference, '(none)')
                || ', which is not in orders'
            when 'unclassified_settlement_line' then 'settlement line of an unknown type, posted to adjustments'
            else line_type || ' line matches nothing (reference ' || coalesce(payment_reference, order_reference, '(none)') || ')'
        end as detail

    from classified_lines
    where reason_code is not null

),

order_reference_groups as (

    -- Lines matched to their order's only counterpart although the amounts differ: one item per group,
    -- named by the line when the group is one line.
    select
        match_group_key,
        min(provider) as provider,
        min(settlement_line_id) as first_line_id,
        count(distinct settlement_line_id) as line_count,
        min(order_id) as order_id,
        min(counterpart_id) as counterpart_id,
        min(variance) as variance,
        min(currency) as currency

    from matches
    where match_rule = 'order_reference'
    group by match_group_key

),

group_mismatches as (

    select
        'amount_mismatch' as reason_code,
        order_reference_groups.provider,
        case when line_count = 1 then 'settlement_line' else 'settlement_group' end as reference_type,
        case when line_count = 1 then first_line_id else match_group_key end as reference_id,
        order_reference_groups.order_id,
        settlement_lines.payout_id,
        variance as amount,
        order_reference_groups.currency,
        'settled for order ' || order_reference_groups.order_id || ' differs from '
            || counterpart_id || ' by ' || cast(variance as varchar) as detail

    from order_reference_groups
    inner join settlement_lines
        on order_reference_groups.first_line_id = settlement_lines.settlement_line_id
    where variance <> 0
        -- a chargeback is queued as a chargeback, whatever its amount
        and settlement_lines.line_type <> 'chargeback'

),

fee_mismatches as (

    select
        'fee_mismatch' as reason_code,
        settlement_lines.provider,
        'settlement_line' as reference_type,
        settlement_lines.settlement_line_id as reference_id,
        settlement_lines.order_reference as order_id,
        settlement_lines.payout_id,
        settlement_lines.fee_amount - expected.fee as amount,
        settlement_lines.currency,
        'fee ' || cast(settlement_lines.fee_amount as varchar) || ', the schedule says '
            || cast(expected.fee as varchar) as detail

    from settlement_lines
    inner join (
        select
            settlement_lines.settlement_line_id,
            -- positive, so round's half-away-from-zero is half up on both engines
            round({{ times_rate('abs(settlement_lines.gross_amount)', 'fee_schedules.percent_rate') }}
                + fee_schedules.fixed_fee, 2) as fee,
            fee_schedules.tolerance
        from settlement_lines
        inner join {{ ref('fee_schedules') }} as fee_schedules
            on settlement_lines.provider = fee_schedules.provider
            and settlement_lines.line_type = fee_schedules.line_type
            and settlement_lines.currency = fee_schedules.currency
    ) as expected
        on settlement_lines.settlement_line_id = expected.settlement_line_id
    where abs(settlement_lines.fee_amount - expected.fee) > expected.tolerance

),

settled_through as (

    -- Sales on or before this business date should be in a payout by now.
    select
        payouts.provider,
        max(payouts.payout_date) - min(providers.settle_within_days) as business_date

    from payouts
    inner join providers
        on payouts.provider = providers.provider
    where providers.counterpart = 'payment'
    group by payouts.provider

),

unsettled_sales as (

    select
        'captured_not_settled' as reason_code,
        counterparts.provider,
        'payment' as reference_type,
        counterparts.counterpart_id as reference_id,
        counterparts.order_id,
        cast(null as varchar) as payout_id,
        counterparts.amount,
        counterparts.currency,
        'sale of ' || cast(counterparts.business_date as varchar) || ' is in no payout' as detail

    from {{ ref('int_finance__settlement_counterparts') }} as counterparts
    inner join settled_through
        on counterparts.provider = settled_through.provider
    where counterparts.kind = 'sale'
        and counterparts.business_date <= settled_through.business_date
        and not exists (
            select 1 from matches
            where matches.provider = counterparts.provider
                and matches.counterpart_id = counterparts.counterpart_id
        )

),

payout_exceptions as (

    select
        'payout_total_mismatch' as reason_code,
        provider,
        'payout' as reference_type,
        payout_id as reference_id,
        cast(null as varchar) as order_id,
        payout_id,
        lines_difference as amount,
        currency,
        'stated ' || cast(stated_amount as varchar) || ', its lines add up to ' || cast(lines_net_amount as varchar) as detail

    from payouts
    where lines_difference <> 0

    union all

    select
        case when deposit_amount is null then 'deposit_missing' else 'deposit_different' end as reason_code,
        provider,
        'payout' as reference_type,
        payout_id as reference_id,
        cast(null as varchar) as order_id,
        payout_id,
        coalesce(deposit_difference, stated_amount) as amount,
        currency,
        case
            when deposit_amount is null then 'no deposit of ' || cast(stated_amount as varchar) || ' on the bank statements'
            else 'bank booked ' || cast(deposit_amount as varchar) || ', the payout states ' || cast(stated_amount as varchar)
        end as detail

    from payouts
    where deposit_status in ('missing', 'differs')

),

all_exceptions as (

    select * from line_exceptions
    union all
    select * from group_mismatches
    union all
    select * from fee_mismatches
    union all
    select * from unsettled_sales
    union all
    select * from payout_exceptions

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
