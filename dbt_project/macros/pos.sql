{#- Square (the stores' POS) sends money as integer minor units beside its currency. This turns them
    into the money type in major units with the currency's ISO 4217 exponent: exact (a decimal
    multiplier, never a division that a warehouse could do in floating point). Square's currencies
    without minor units are those of connectors/square/models.py ZERO_DECIMAL_CURRENCIES. -#}
{% macro pos_minor_to_money(amount, currency) -%}
    {{ as_money(
        'cast(' ~ amount ~ ' as numeric(18,0)) * case when upper(' ~ currency ~ ") in ('JPY', 'KRW', 'CLP', 'ISK', 'VND', 'XAF', 'XOF', 'XPF') then 1.000 else 0.010 end"
    ) }}
{%- endmacro %}

{#- Rows of a Square order's child table (line items, tenders, returned lines) that belong to the
    order's latest version (stg_square__orders), newest fetch first; rank 1 is the row to keep. -#}
{% macro pos_children_of_latest_order_version(renamed, key) -%}
    select
        {{ renamed }}.*,
        row_number() over (
            partition by {{ renamed }}.{{ key }}
            order by {{ renamed }}.extracted_at desc, {{ renamed }}.record_hash desc
        ) as version_rank

    from {{ renamed }}
    inner join {{ ref('stg_square__orders') }} as latest_order_versions
        on {{ renamed }}.order_id = latest_order_versions.order_id
        and {{ renamed }}.order_updated_at = latest_order_versions.updated_at
{%- endmacro %}
