{#- The canonical marts are unions of one intermediate model per channel or provider
    (int_<contributor>__<entity>), each with exactly the contract's columns in the contract's order.
    var('canonical_contributors') (var('settlement_contributors') for the finance marts) says who
    contributes to which entity. -#}
{% macro union_contributors(entity, contributors_var='canonical_contributors') -%}
    {%- for contributor in var(contributors_var)[entity] %}
    select * from {{ ref('int_' ~ contributor ~ '__' ~ entity) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- The FX rate from a transaction currency to a functional currency on a date: 1 for the same
    currency, else the seed's rate valid that day (null when the seed has none: a test catches it). -#}
{% macro fx_rate(rates, currency, functional_currency, on_date) -%}
    case
        when {{ currency }} = {{ functional_currency }} then cast(1 as numeric(18,8))
        else (
            select {{ rates }}.rate from {{ ref('fx_rates') }} as {{ rates }}
            where {{ rates }}.from_currency = {{ currency }}
                and {{ rates }}.to_currency = {{ functional_currency }}
                and {{ rates }}.valid_from <= {{ on_date }}
            order by {{ rates }}.valid_from desc
            limit 1
        )
    end
{%- endmacro %}
