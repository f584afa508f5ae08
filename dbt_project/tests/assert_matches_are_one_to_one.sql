-- A settlement line pays at most one payment and a payment is settled by at most one line;
-- a second match would count money twice.
with

line_counts as (

    select 'settlement_line' as matched_side, settlement_line_id as matched_id, count(*) as match_count
    from {{ ref('settlement_matches') }}
    group by settlement_line_id

),

payment_counts as (

    select 'payment' as matched_side, payment_id as matched_id, count(*) as match_count
    from {{ ref('settlement_matches') }}
    group by payment_id

)

select * from line_counts where match_count > 1
union all
select * from payment_counts where match_count > 1
