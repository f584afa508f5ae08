-- Every settlement line matched to what it pays for, one row per line and counterpart, with the pass
-- that matched them (int_finance__settlement_match_passes says how each pass works).
select
    {{ hash_id(['passes.provider', 'passes.settlement_line_id', 'passes.counterpart_id']) }} as match_id,
    passes.provider,
    passes.settlement_line_id,
    providers.counterpart as counterpart_type,
    passes.counterpart_id,
    passes.order_id,
    passes.match_rule,
    passes.match_group_key,
    passes.settlement_amount,
    passes.counterpart_amount,
    passes.variance,
    passes.currency

from {{ ref('int_finance__settlement_match_passes') }} as passes
inner join {{ ref('settlement_providers') }} as providers
    on passes.provider = providers.provider
where passes.outcome = 'matched'
