{#- Settlement lines matched to what they pay for (int_finance__settlement_counterparts) in passes of
    falling certainty. Each pass sees only the lines and counterparts earlier passes left, and no pass
    guesses: where two candidates are equally good nothing is matched.

    One row per outcome: a match (line x counterpart, with its rule), or a line that must not be matched:
    a duplicate (it names a payment another line already settled) or an ambiguous one (two candidates
    equally close). settlement_matches keeps the matches; reconciliation_exceptions queues the rest.

    Amounts: settlement_amount is the line's gross, counterpart_amount the counterpart's; variance is the
    match group's (Σ lines − Σ counterparts), so it is counted once per match_group_key. -#}
with

providers as (

    select * from {{ ref('settlement_providers') }}

),

lines as (

    -- Fees, adjustments and reserves pay for nothing a channel recorded: they need no match.
    select
        settlement_line_id,
        provider,
        line_type as kind,
        order_reference,
        payment_reference,
        gross_amount as amount,
        currency,
        posted_at,
        {{ local_date('posted_at', "'UTC'") }} as posted_date

    from {{ ref('settlement_lines') }}
    where line_type in ('sale', 'refund', 'chargeback', 'chargeback_reversal')

),

counterparts as (

    select * from {{ ref('int_finance__settlement_counterparts') }}

),

-- Pass 1, exact_reference: the line names its payment. A payment named by several lines is settled
-- by the earliest; the later ones are duplicates.
reference_candidates as (

    select
        lines.settlement_line_id,
        counterparts.counterpart_key,
        count(*) over (partition by lines.settlement_line_id) as counterparts_per_line,
        row_number() over (
            partition by counterparts.counterpart_key
            order by lines.posted_at, lines.settlement_line_id
        ) as claim_rank

    from lines
    inner join counterparts
        on lines.provider = counterparts.provider
        and lines.kind = counterparts.kind
        and lines.currency = counterparts.currency
        and lines.payment_reference = counterparts.reference

),

exact_reference as (

    select
        settlement_line_id,
        counterpart_key,
        'exact_reference' as match_rule,
        cast(null as varchar) as match_group_key

    from reference_candidates
    where claim_rank = 1
        and counterparts_per_line = 1

),

duplicates as (

    select settlement_line_id
    from reference_candidates
    where claim_rank > 1
        and counterparts_per_line = 1

),

lines_after_1 as (

    -- not exists, not `not in`: both warehouses run it as an anti join (PostgreSQL never plans `not in`
    -- as one, and past work_mem rescans the subquery per row), and a null key cannot empty the result.
    select * from lines
    where not exists (
        select 1 from exact_reference as taken where taken.settlement_line_id = lines.settlement_line_id
    )
    and not exists (
        select 1 from duplicates as taken where taken.settlement_line_id = lines.settlement_line_id
    )

),

counterparts_after_1 as (

    select * from counterparts
    where not exists (
        select 1 from exact_reference as taken where taken.counterpart_key = counterparts.counterpart_key
    )

),

-- Pass 2, order_reference_amount: same order, kind and amount, where one line and one counterpart fit.
order_amount_candidates as (

    select
        lines_after_1.settlement_line_id,
        counterparts_after_1.counterpart_key,
        count(*) over (partition by lines_after_1.settlement_line_id) as counterparts_per_line,
        count(*) over (partition by counterparts_after_1.counterpart_key) as lines_per_counterpart

    from lines_after_1
    inner join counterparts_after_1
        on lines_after_1.provider = counterparts_after_1.provider
        and lines_after_1.kind = counterparts_after_1.kind
        and lines_after_1.currency = counterparts_after_1.currency
        and lines_after_1.order_reference = counterparts_after_1.order_id
        and lines_after_1.amount = counterparts_after_1.amount

),

order_reference_amount as (

    select
        settlement_line_id,
        counterpart_key,
        'order_reference_amount' as match_rule,
        cast(null as varchar) as match_group_key

    from order_amount_candidates
    where counterparts_per_line = 1
        and lines_per_counterpart = 1

),

lines_after_2 as (

    select * from lines_after_1
    where not exists (
        select 1 from order_reference_amount as taken where taken.settlement_line_id = lines_after_1.settlement_line_id
    )

),

counterparts_after_2 as (

    select * from counterparts_after_1
    where not exists (
        select 1 from order_reference_amount as taken where taken.counterpart_key = counterparts_after_1.counterpart_key
    )

),

-- Pass 3, many_to_one: several lines of one order and kind (Amazon's row per amount type, a sale
-- settled in parts) that together equal exactly one counterpart.
line_groups as (

    select
        provider,
        order_reference,
        kind,
        currency,
        sum(amount) as amount,
        count(*) as line_count

    from lines_after_2
    where order_reference is not null
    group by provider, order_reference, kind, currency

),

many_to_one_candidates as (

    select
        line_groups.provider,
        line_groups.order_reference,
        line_groups.kind,
        counterparts_after_2.counterpart_key,
        count(*) over (
            partition by line_groups.provider, line_groups.order_reference, line_groups.kind
        ) as counterparts_per_group

    from line_groups
    inner join counterparts_after_2
        on line_groups.provider = counterparts_after_2.provider
        and line_groups.kind = counterparts_after_2.kind
        and line_groups.currency = counterparts_after_2.currency
        and line_groups.order_reference = counterparts_after_2.order_id
        and line_groups.amount = counterparts_after_2.amount
    where line_groups.line_count >= 2

),

many_to_one as (

    select
        lines_after_2.settlement_line_id,
        many_to_one_candidates.counterpart_key,
        'many_to_one' as match_rule,
        many_to_one_candidates.provider || ':' || many_to_one_candidates.order_reference
            || ':' || many_to_one_candidates.kind as match_group_key

    from many_to_one_candidates
    inner join lines_after_2
        on many_to_one_candidates.provider = lines_after_2.provider
        and many_to_one_candidates.order_reference = lines_after_2.order_reference
        and many_to_one_candidates.kind = lines_after_2.kind
    where many_to_one_candidates.counterparts_per_group = 1

),

lines_after_3 as (

    select * from lines_after_2
    where not exists (
        select 1 from many_to_one as taken where taken.settlement_line_id = lines_after_2.settlement_line_id
    )

),

counterparts_after_3 as (

    select * from counterparts_after_2
    where not exists (
        select 1 from many_to_one as taken where taken.counterpart_key = counterparts_after_2.counterpart_key
    )

),

-- Pass 4, one_to_many: the one line left for an order and kind pays all of its 2+ counterparts left
-- (a payout line for a split shipment that was captured twice).
single_lines as (

    select
        *,
        count(*) over (partition by provider, order_reference, kind) as lines_for_order

    from lines_after_3
    where order_reference is not null

),

counterpart_groups as (

    select
        provider,
        order_id,
        kind,
        currency,
        sum(amount) as amount,
        count(*) as counterpart_count

    from counterparts_after_3
    where order_id is not null
    group by provider, order_id, kind, currency

),

one_to_many as (

    select
        single_lines.settlement_line_id,
        counterparts_after_3.counterpart_key,
        'one_to_many' as match_rule,
        single_lines.provider || ':' || single_lines.order_reference || ':' || single_lines.kind as match_group_key

    from single_lines
    inner join counterpart_groups
        on single_lines.provider = counterpart_groups.provider
        and single_lines.kind = counterpart_groups.kind
        and single_lines.currency = counterpart_groups.currency
        and single_lines.order_reference = counterpart_groups.order_id
        and single_lines.amount = counterpart_groups.amount
    inner join counterparts_after_3
        on counterpart_groups.provider = counterparts_after_3.provider
        and counterpart_groups.kind = counterparts_after_3.kind
        and counterpart_groups.order_id = counterparts_after_3.order_id
    where single_lines.lines_for_order = 1
        and counterpart_groups.counterpart_count >= 2

),

lines_after_4 as (

    select * from lines_after_3
    where not exists (
        select 1 from one_to_many as taken where taken.settlement_line_id = lines_after_3.settlement_line_id
    )

),

counterparts_after_4 as (

    select * from counterparts_after_3
    where not exists (
        select 1 from one_to_many as taken where taken.counterpart_key = counterparts_after_3.counterpart_key
    )

),

-- Pass 5, amount_tolerance: a line that names neither payment nor order, matched on amount and date
-- within the provider's tolerances, only to a candidate strictly closer than any other, both ways.
--
-- Joining every line to every counterpart of its provider, kind and currency and then filtering is
-- quadratic (a peak day is billions of pairs). Instead amounts (floored to whole cents) and dates
-- (day numbers) are cut into bands one tolerance + 1 wide: two values within tolerance are then at
-- most one band apart, so a line need only meet the counterparts of its own and the two neighbouring
-- bands (an equi-join), and the exact tolerance filters after it keep exactly the pairs the full join
-- kept. The + 1 also keeps a zero tolerance's band one cent (or one day) wide, never a division by
-- zero. Bands are floor() of a numeric quotient, not integer division, which is not the same on
-- DuckDB and PostgreSQL for negative amounts (refunds).
tolerance_bands as (

    select
        provider,
        amount_tolerance,
        date_tolerance_days,
        cast(ceil(amount_tolerance * 100) as bigint) + 1 as amount_band_cents,
        date_tolerance_days + 1 as date_band_days

    from providers
    where date_tolerance_days > 0

),

tolerance_lines as (

    select
        lines_after_4.settlement_line_id,
        lines_after_4.provider,
        lines_after_4.kind,
        lines_after_4.currency,
        lines_after_4.amount,
        lines_after_4.posted_date,
        tolerance_bands.amount_tolerance,
        tolerance_bands.date_tolerance_days,
        cast(floor(
            cast(floor(lines_after_4.amount * 100) as bigint) / cast(tolerance_bands.amount_band_cents as numeric)
        ) as bigint) as amount_band,
        cast(floor(
            (lines_after_4.posted_date - cast('1970-01-01' as date)) / cast(tolerance_bands.date_band_days as numeric)
        ) as bigint) as date_band

    from lines_after_4
    inner join tolerance_bands
        on lines_after_4.provider = tolerance_bands.provider
    where lines_after_4.payment_reference is null
        and lines_after_4.order_reference is null

),

tolerance_counterparts as (

    select
        counterparts_after_4.counterpart_key,
        counterparts_after_4.provider,
        counterparts_after_4.kind,
        counterparts_after_4.currency,
        counterparts_after_4.amount,
        counterparts_after_4.business_date,
        cast(floor(
            cast(floor(counterparts_after_4.amount * 100) as bigint) / cast(tolerance_bands.amount_band_cents as numeric)
        ) as bigint) as amount_band,
        cast(floor(
            (counterparts_after_4.business_date - cast('1970-01-01' as date))
                / cast(tolerance_bands.date_band_days as numeric)
        ) as bigint) as date_band

    from counterparts_after_4
    inner join tolerance_bands
        on counterparts_after_4.provider = tolerance_bands.provider

),

neighbouring_bands as (

    select -1 as band_offset
    union all
    select 0 as band_offset
    union all
    select 1 as band_offset

),

tolerance_line_bands as (

    -- Each line once per band it may meet a counterpart in (3 amount bands x 3 date bands); a
    -- counterpart sits in one band, so no pair is found twice.
    select
        tolerance_lines.*,
        tolerance_lines.amount_band + amount_offsets.band_offset as counterpart_amount_band,
        tolerance_lines.date_band + date_offsets.band_offset as counterpart_date_band

    from tolerance_lines
    cross join neighbouring_bands as amount_offsets
    cross join neighbouring_bands as date_offsets

),

tolerance_candidates as (

    select
        tolerance_line_bands.settlement_line_id,
        tolerance_counterparts.counterpart_key,
        abs(tolerance_line_bands.amount - tolerance_counterparts.amount) as amount_distance,
        abs(tolerance_line_bands.posted_date - tolerance_counterparts.business_date) as day_distance

    from tolerance_line_bands
    inner join tolerance_counterparts
        on tolerance_line_bands.provider = tolerance_counterparts.provider
        and tolerance_line_bands.kind = tolerance_counterparts.kind
        and tolerance_line_bands.currency = tolerance_counterparts.currency
        and tolerance_line_bands.counterpart_amount_band = tolerance_counterparts.amount_band
        and tolerance_line_bands.counterpart_date_band = tolerance_counterparts.date_band
    where abs(tolerance_line_bands.amount - tolerance_counterparts.amount) <= tolerance_line_bands.amount_tolerance
        and abs(tolerance_line_bands.posted_date - tolerance_counterparts.business_date)
            <= tolerance_line_bands.date_tolerance_days

),

tolerance_ranked as (

    select
        *,
        rank() over (
            partition by settlement_line_id order by amount_distance, day_distance
        ) as rank_for_line,
        rank() over (
            partition by counterpart_key order by amount_distance, day_distance
        ) as rank_for_counterpart

    from tolerance_candidates

),

tolerance_best as (

    -- How many candidates tie for first place, seen from each side.
    select
        *,
        sum(case when rank_for_line = 1 then 1 else 0 end)
            over (partition by settlement_line_id) as best_for_line,
        sum(case when rank_for_counterpart = 1 then 1 else 0 end)
            over (partition by counterpart_key) as best_for_counterpart

    from tolerance_ranked

),

amount_tolerance as (

    select
        settlement_line_id,
        counterpart_key,
        'amount_tolerance' as match_rule,
        cast(null as varchar) as match_group_key

    from tolerance_best
    where rank_for_line = 1
        and best_for_line = 1
        and rank_for_counterpart = 1
        and best_for_counterpart = 1

),

ambiguous as (

    select distinct settlement_line_id
    from tolerance_best
    where rank_for_line = 1
        and (best_for_line > 1 or (rank_for_counterpart = 1 and best_for_counterpart > 1))

),

lines_after_5 as (

    select * from lines_after_4
    where not exists (
        select 1 from amount_tolerance as taken where taken.settlement_line_id = lines_after_4.settlement_line_id
    )

),

counterparts_after_5 as (

    select * from counterparts_after_4
    where not exists (
        select 1 from amount_tolerance as taken where taken.counterpart_key = counterparts_after_4.counterpart_key
    )

),

-- Pass 6, order_reference: what is left of an order and kind against the order's one counterpart left,
-- whatever the amounts: matched, and the difference queued as an amount mismatch.
order_candidates as (

    select
        provider,
        order_id,
        kind,
        currency,
        min(counterpart_key) as counterpart_key,
        count(*) as counterpart_count

    from counterparts_after_5
    where order_id is not null
    group by provider, order_id, kind, currency

),

order_reference as (

    select
        lines_after_5.settlement_line_id,
        order_candidates.counterpart_key,
        'order_reference' as match_rule,
        lines_after_5.provider || ':' || lines_after_5.order_reference || ':' || lines_after_5.kind as match_group_key

    from lines_after_5
    inner join order_candidates
        on lines_after_5.provider = order_candidates.provider
        and lines_after_5.kind = order_candidates.kind
        and lines_after_5.currency = order_candidates.currency
        and lines_after_5.order_reference = order_candidates.order_id
    where order_candidates.counterpart_count = 1

),

matches as (

    select * from exact_reference
    union all
    select * from order_reference_amount
    union all
    select * from many_to_one
    union all
    select * from one_to_many
    union all
    select * from amount_tolerance
    union all
    select * from order_reference

),

matched as (

    select
        matches.*,
        counterparts.counterpart_id,
        lines.provider,
        lines.amount as settlement_amount,
        counterparts.amount as counterpart_amount,
        counterparts.order_id as counterpart_order_id,
        lines.order_reference,
        lines.currency

    from matches
    inner join lines
        on matches.settlement_line_id = lines.settlement_line_id
    inner join counterparts
        on matches.counterpart_key = counterparts.counterpart_key

),

group_lines as (

    select distinct match_group_key, settlement_line_id, settlement_amount
    from matched
    where match_group_key is not null

),

group_counterparts as (

    select distinct match_group_key, counterpart_key, counterpart_amount
    from matched
    where match_group_key is not null

),

group_totals as (

    -- A group's variance, each of its lines and each of its counterparts counted once.
    select
        line_totals.match_group_key,
        line_totals.amount - counterpart_totals.amount as variance

    from (
        select match_group_key, sum(settlement_amount) as amount from group_lines group by match_group_key
    ) as line_totals
    inner join (
        select match_group_key, sum(counterpart_amount) as amount from group_counterparts group by match_group_key
    ) as counterpart_totals
        on line_totals.match_group_key = counterpart_totals.match_group_key

),

outcomes as (

    select
        'matched' as outcome,
        matched.provider,
        matched.settlement_line_id,
        matched.counterpart_id,
        coalesce(matched.counterpart_order_id, matched.order_reference) as order_id,
        matched.match_rule,
        matched.match_group_key,
        matched.settlement_amount,
        matched.counterpart_amount,
        coalesce(group_totals.variance, matched.settlement_amount - matched.counterpart_amount) as variance,
        matched.currency

    from matched
    left join group_totals
        on matched.match_group_key = group_totals.match_group_key

    union all

    select
        case when duplicates.settlement_line_id is not null then 'duplicate' else 'ambiguous' end as outcome,
        lines.provider,
        lines.settlement_line_id,
        cast(null as varchar) as counterpart_id,
        lines.order_reference as order_id,
        cast(null as varchar) as match_rule,
        cast(null as varchar) as match_group_key,
        lines.amount as settlement_amount,
        cast(null as {{ money_type() }}) as counterpart_amount,
        cast(null as {{ money_type() }}) as variance,
        lines.currency

    from lines
    left join duplicates
        on lines.settlement_line_id = duplicates.settlement_line_id
    left join ambiguous
        on lines.settlement_line_id = ambiguous.settlement_line_id
    where duplicates.settlement_line_id is not null
        or ambiguous.settlement_line_id is not null

)

select
    outcome,
    provider,
    settlement_line_id,
    counterpart_id,
    order_id,
    match_rule,
    match_group_key,
    {{ as_money('settlement_amount') }} as settlement_amount,
    {{ as_money('counterpart_amount') }} as counterpart_amount,
    {{ as_money('variance') }} as variance,
    currency

from outcomes
