{#- All money is exact: numeric(18,4) holds every currency's minor units with room for
    allocations. Never float. -#}
{% macro money_type() -%}
    numeric(18,4)
{%- endmacro %}

{#- Shopify sends money as decimal text ('12.30', '-4.50'); blank means absent, not zero. -#}
{% macro cast_money(column) -%}
    cast(nullif(trim({{ column }}), '') as {{ money_type() }})
{%- endmacro %}

{#- A money expression as the mart column type, so sums and products have the same type on every warehouse. -#}
{% macro as_money(expression) -%}
    cast({{ expression }} as {{ money_type() }})
{%- endmacro %}

{#- An amount times a rate (an FX rate, a fee percentage), exact at any size. DuckDB multiplies two
    decimals of 18 digits or fewer in 64 bits and keeps 18: numeric(18,4) x numeric(18,8) is
    numeric(18,12), which overflows from 1,000,000 (one day's payout of a large retailer). Widened
    first, the product is numeric(38,12). PostgreSQL's numeric has no such limit. -#}
{% macro times_rate(amount, rate) -%}
    (cast({{ amount }} as numeric(38,4)) * {{ rate }})
{%- endmacro %}
