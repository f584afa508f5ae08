-- Shown in Dagster as a check on posting_batches.
{{ config(meta={'dagster': {'ref': {'name': 'posting_batches'}}}) }}
-- A batch header must state what its lines add up to, and is_balanced must tell the truth:
-- the export trusts neither blindly, but finance reads both.
with

line_totals as (

    select batch_id, sum(debit_amount) as debit, sum(credit_amount) as credit, count(*) as line_count
    from {{ ref('journal_lines') }}
    group by batch_id

)

select batches.batch_id
from {{ ref('posting_batches') }} as batches
left join line_totals
    on batches.batch_id = line_totals.batch_id
where batches.total_debit <> coalesce(line_totals.debit, 0)
    or batches.total_credit <> coalesce(line_totals.credit, 0)
    or batches.line_count <> coalesce(line_totals.line_count, 0)
    or batches.is_balanced <> (coalesce(line_totals.debit, 0) = coalesce(line_totals.credit, 0))
