{#- A settlement line states the amount for its whole quantity: the unit price is amount / quantity, rounded
    half up to 4 decimals exactly (the same arithmetic as amazon_unit_price, DuckDB-safe). -#}
{% macro marketplace_unit_price(amount, quantity) -%}
    {{ amazon_unit_price(amount, quantity) }}
{%- endmacro %}

{#- A marketplace line without a posting instant happened on its posting date, in the marketplace's
    zone: the instant of that day's local midnight (timestamp AT TIME ZONE zone is timestamptz on
    DuckDB and PostgreSQL alike). -#}
{% macro marketplace_local_midnight(posted_date, time_zone) -%}
    (cast({{ posted_date }} as timestamp) at time zone {{ time_zone }})
{%- endmacro %}
