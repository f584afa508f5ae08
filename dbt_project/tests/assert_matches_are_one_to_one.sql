-- A settlement line takes part in at most one match, and so does a counterpart (per kind: an order is
-- the counterpart of its sale and of its refunds). A match is one line and one counterpart, or one
-- group (many_to_one, one_to_many, order_reference); a second match would count money twice.
with

matches as (

    select
        settlement_matches.*,
        settlement_lines.line_type,
        coalesce(settlement_matches.match_group_key, settlement_matches.match_id) as match_key

    from {{ ref('settlement_matches') }} as settlement_matches
    inner join {{ ref('settlement_lines') }} as settlement_lines
        on settlement_matches.settlement_line_id = settlement_lines.settlement_line_id

),

line_counts as (

    select 'settlement_line' as matched_side, settlement_line_id as matched_id, count(distinct match_key) as match_count
    from matches
    group by settlement_line_id

),

counterpart_counts as (

    select 'counterpart' as matched_side, provider || ':' || line_type || ':' || counterpart_id as matched_id,
        count(distinct match_key) as match_count
    from matches
    group by provider, line_type, counterpart_id

)

select * from line_counts where match_count > 1
union all
select * from counterpart_counts where match_count > 1
