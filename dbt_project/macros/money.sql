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
