{#- Every source's quarantine as one staging shape: what failed validation, why, and where it landed.
    The payload itself stays in raw (and in the landing file): it can carry PII such as emails. -#}
{% macro staging_quarantine(source_name) -%}
with

source as (

    select * from {{ source(source_name, '_quarantine') }}

),

renamed as (

    select
        -- The loader may leave _record_hash empty on quarantine rows: then the content decides.
        coalesce(_record_hash, {{ hash_id(['stream', 'record_id', 'reason', '_payload']) }}) as quarantine_id,
        stream,
        record_id,
        reason as quarantine_reason,
        _landed_file as landed_file,
        _extracted_at as extracted_at,
        _loaded_at as loaded_at

    from source

),

deduplicated as (

    select
        *,
        -- The same bad record landed again (a re-pull) is one item to fix: keep its latest landing.
        row_number() over (
            partition by quarantine_id
            order by extracted_at desc, landed_file desc, loaded_at desc
        ) as version_rank

    from renamed

)

select
    quarantine_id,
    stream,
    record_id,
    quarantine_reason,
    landed_file,
    extracted_at,
    loaded_at

from deduplicated
where version_rank = 1
{%- endmacro %}
