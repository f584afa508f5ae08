{#- Stripe sends money as an integer in the currency's minor unit (connectors/stripe/models.py):
    zero-decimal currencies (JPY, KRW, ...) have exponent 0, three-decimal ones (BHD, KWD, ...) 3,
    every other currency 2. Staging turns minor units into exact major units with these. -#}
{% macro stripe_currency_exponent(currency) -%}
    case
        when lower({{ currency }}) in (
            'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'
        ) then 0
        when lower({{ currency }}) in ('bhd', 'jod', 'kwd', 'omr', 'tnd') then 3
        else 2
    end
{%- endmacro %}

{#- An integer amount in minor units as exact major units (1099 usd -> 10.99), money_type().
    A multiplication by an exact decimal factor, never a division (which DuckDB does in double). -#}
{% macro stripe_to_major(amount, currency) -%}
    {{ as_money(
        'cast(' ~ amount ~ ' as numeric(18,0)) * case ' ~ stripe_currency_exponent(currency)
        ~ ' when 0 then 1.000 when 3 then 0.001 else 0.010 end'
    ) }}
{%- endmacro %}

{#- One key of a Stripe metadata object (stored as JSON text by the raw loader), as text; null
    when absent. `->>` on json is the same on DuckDB and PostgreSQL; other adapters override. -#}
{% macro stripe_metadata_value(metadata, key) -%}
    {{ return(adapter.dispatch('stripe_metadata_value', 'omnirecon')(metadata, key)) }}
{%- endmacro %}

{% macro default__stripe_metadata_value(metadata, key) -%}
    nullif(cast(nullif(trim({{ metadata }}), '') as json) ->> '{{ key }}', '')
{%- endmacro %}
