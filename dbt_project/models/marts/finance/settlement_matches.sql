{#- Settlement lines are matched to payments in passes of falling certainty. Each pass sees only the
    lines and payments that earlier passes left, and a pass never guesses: a line with more than one
    plausible payment (or a payment plausible for more than one line) stays unmatched for a person. -#}
with

lines_to_match as (

    -- Adjustments have no counterpart payment; 'other' lines are flagged, not matched.
    select * from {{ ref('settlement_lines') }}
    where line_type in ('charge', 'refund')

),

payments_to_match as (

    -- Only money movements settle: captures and sales as charges, refunds as refunds.
    select
        *,
        case when event_type = 'refund' then 'refund' else 'charge' end as settles_line_type

    from {{ ref('payments') }}
    where event_type in ('capture', 'sale', 'refund')

),

-- Pass 1: the provider names the payment it settles.
exact_reference_candidates as (

    select
        lines_to_match.settlement_line_id,
        payments_to_match.payment_id,
        -- A payment settled twice is matched once (to the earliest line); the duplicate becomes an exception.
        row_number() over (
            partition by payments_to_match.payment_id
            order by lines_to_match.posted_at, lines_to_match.settlement_line_id
        ) as claim_rank

    from lines_to_match
    inner join payments_to_match
        on lines_to_match.payment_reference = payments_to_match.payment_id
        and lines_to_match.provider = payments_to_match.provider
        and lines_to_match.line_type = payments_to_match.settles_line_type
        and lines_to_match.currency = payments_to_match.currency

),

exact_reference_matches as (

    select settlement_line_id, payment_id, 'exact_reference' as match_rule
    from exact_reference_candidates
    where claim_rank = 1

),

-- Pass 2: same order, same kind, same amount, among what pass 1 left.
order_reference_amount_candidates as (

    select
        lines_to_match.settlement_line_id,
        payments_to_match.payment_id

    from lines_to_match
    inner join payments_to_match
        on lines_to_match.order_reference = payments_to_match.order_id
        and lines_to_match.gross_amount = payments_to_match.gross_amount
        and lines_to_match.provider = payments_to_match.provider
        and lines_to_match.line_type = payments_to_match.settles_line_type
        and lines_to_match.currency = payments_to_match.currency
    where not exists (
            select 1 from exact_reference_matches as matched
            where matched.settlement_line_id = lines_to_match.settlement_line_id
        )
        and not exists (
            select 1 from exact_reference_matches as matched
            where matched.payment_id = payments_to_match.payment_id
        )

),

order_reference_amount_counted as (

    select
        settlement_line_id,
        payment_id,
        count(*) over (partition by settlement_line_id) as payments_per_line,
        count(*) over (partition by payment_id) as lines_per_payment

    from order_reference_amount_candidates

),

order_reference_amount_matches as (

    select settlement_line_id, payment_id, 'order_reference_amount' as match_rule
    from order_reference_amount_counted
    where payments_per_line = 1
        and lines_per_payment = 1

),

all_matches as (

    select * from exact_reference_matches
    union all
    select * from order_reference_amount_matches

)

select
    {{ hash_id(['lines_to_match.provider', 'all_matches.settlement_line_id', 'all_matches.payment_id']) }} as match_id,
    lines_to_match.provider,
    all_matches.settlement_line_id,
    all_matches.payment_id,
    coalesce(payments_to_match.order_id, lines_to_match.order_reference) as order_id,
    all_matches.match_rule,
    lines_to_match.gross_amount as settlement_amount,
    payments_to_match.gross_amount as payment_amount,
    {{ as_money('lines_to_match.gross_amount - payments_to_match.gross_amount') }} as variance,
    lines_to_match.currency

from all_matches
inner join lines_to_match
    on all_matches.settlement_line_id = lines_to_match.settlement_line_id
inner join payments_to_match
    on all_matches.payment_id = payments_to_match.payment_id
