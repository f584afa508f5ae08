{#- Amazon states ItemPrice (and every other item amount) for the item's whole quantity. The unit price is
    amount / quantity, rounded half up to the money type's 4 decimals, exactly: DuckDB divides decimals
    in floating point, so there it is done in integer ten-thousandths. Null for a zero quantity. -#}
{% macro amazon_unit_price(amount, quantity) -%}
    {{ return(adapter.dispatch('amazon_unit_price', 'omnirecon')(amount, quantity)) }}
{%- endmacro %}

{% macro default__amazon_unit_price(amount, quantity) -%}
    {{ as_money('round(' ~ as_money(amount) ~ ' / nullif(' ~ quantity ~ ', 0), 4)') }}
{%- endmacro %}

{% macro duckdb__amazon_unit_price(amount, quantity) -%}
    {{ as_money(
        '(case when ' ~ as_money(amount) ~ ' < 0 then -1 else 1 end)'
        ~ ' * ((abs(cast(' ~ as_money(amount) ~ ' * 10000 as hugeint)) * 2 + abs(' ~ quantity ~ '))'
        ~ ' // nullif(2 * abs(' ~ quantity ~ '), 0))'
        ~ ' * cast(0.0001 as numeric(18,4))'
        ~ ' * (case when ' ~ quantity ~ ' < 0 then -1 else 1 end)'
    ) }}
{%- endmacro %}
