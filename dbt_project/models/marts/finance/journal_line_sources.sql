{#- Lineage from each journal line to the records it summarises (a sales journal: orders and payment events; a settlement journal's bank line: the
    payout; its other lines: settlement lines; a COGS journal's lines: stock movements), with the correlation
    id that leads on to the order and its payments. A role that nets to zero has no journal line, so its
    records appear nowhere here. -#}
with

postings as (

    {%- for postings in ['int_finance__settlement_postings', 'int_finance__sales_postings', 'int_finance__cogs_postings'] %}
    select batch_id, posting_role, account_code, source_type, source_id, correlation_id, signed_amount, currency
    from {{ ref(postings) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

journal_lines as (

    select * from {{ ref('journal_lines') }}

)

select
    {{ hash_id(['journal_lines.journal_line_id', 'postings.source_type', 'postings.source_id']) }} as journal_line_source_id,
    journal_lines.journal_line_id,
    journal_lines.batch_id,
    postings.posting_role,
    postings.source_type,
    postings.source_id,
    postings.correlation_id,
    {{ as_money('postings.signed_amount') }} as amount,
    postings.currency

from postings
inner join journal_lines
    on postings.batch_id = journal_lines.batch_id
    and postings.posting_role = journal_lines.posting_role
    and postings.account_code = journal_lines.account_code
