{#- Adapter-specific SQL lives here, behind dispatch, so every model is the same text on every warehouse. -#}

{#- The calendar date of a UTC instant in an IANA time zone (the business date of a legal entity).
    `at time zone` on a timestamptz gives the local wall-clock time on DuckDB (ICU) and PostgreSQL alike. -#}
{% macro local_date(timestamp_tz, time_zone) -%}
    {{ return(adapter.dispatch('local_date', 'omnirecon')(timestamp_tz, time_zone)) }}
{%- endmacro %}

{% macro default__local_date(timestamp_tz, time_zone) -%}
    cast(({{ timestamp_tz }} at time zone {{ time_zone }}) as date)
{%- endmacro %}

{#- A deterministic id: md5 hex of the parts joined by '|'. A null part becomes '' so the id never
    goes null; callers pass parts that are never null where that would be ambiguous. -#}
{% macro hash_id(parts) -%}
    {{ return(adapter.dispatch('hash_id', 'omnirecon')(parts)) }}
{%- endmacro %}

{% macro default__hash_id(parts) -%}
    md5(
        {%- for part in parts %}
        coalesce(cast({{ part }} as varchar), ''){% if not loop.last %} || '|' ||{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{#- Shopify's numeric ids as text: the canonical model keys everything by varchar so ids from
    channels that use strings join the same way. -#}
{% macro id_text(column) -%}
    cast({{ column }} as varchar)
{%- endmacro %}

{#- A settlement journal's batch id: derived only from what it summarises (provider and payout), so a
    rebuild or replay gives the same id and the ERP can never receive the same payout twice. -#}
{% macro settlement_batch_id(provider, payout_id) -%}
    'SJ-' || substr(md5({{ provider }} || '|settlement|' || {{ payout_id }}), 1, 16)
{%- endmacro %}

{#- A COGS journal's batch id: derived only from what it summarises (entity, location, business date). -#}
{% macro cogs_batch_id(legal_entity_id, location_id, business_date) -%}
    'CJ-' || substr(md5({{ legal_entity_id }} || '|cogs|' || {{ location_id }} || '|' || cast({{ business_date }} as varchar)), 1, 16)
{%- endmacro %}

{#- A sales journal's batch id: derived only from what it summarises (entity, channel, location, business date). -#}
{% macro sales_batch_id(legal_entity_id, channel_id, location_id, business_date) -%}
    'SA-' || substr(md5({{ legal_entity_id }} || '|sales|' || {{ channel_id }} || '|' || coalesce({{ location_id }}, '')
        || '|' || cast({{ business_date }} as varchar)), 1, 16)
{%- endmacro %}
