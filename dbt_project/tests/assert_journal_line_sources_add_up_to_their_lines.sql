-- Shown in Dagster as a check on journal_line_sources.
{{ config(meta={'dagster': {'ref': {'name': 'journal_line_sources'}}}) }}
-- Lineage is complete: the records behind each journal line add up to exactly that line.
with

source_totals as (

    select journal_line_id, sum(amount) as sources_amount
    from {{ ref('journal_line_sources') }}
    group by journal_line_id

)

select lines.journal_line_id, lines.debit_amount - lines.credit_amount as line_amount, source_totals.sources_amount
from {{ ref('journal_lines') }} as lines
left join source_totals
    on lines.journal_line_id = source_totals.journal_line_id
where source_totals.sources_amount is null
    or source_totals.sources_amount <> lines.debit_amount - lines.credit_amount
