{#- Square (the stores' POS) sends money as integer minor units beside its currency. This turns them
    into the money type in major units with the currency's ISO 4217 exponent: exact (a decimal
    multiplier, never a division that a warehouse could do in floating point). Square's currencies
    without minor units are those of connectors/square/models.py ZERO_DECIMAL_CURRENCIES. -#}
{% macro pos_minor_to_money(amount, currency) -%}
    {{ as_money(
        'cast(' ~ amount ~ ' as numeric(18,0)) * case when upper(' ~ currency ~ ") in ('JPY', 'KRW', 'CLP', 'ISK', 'VND', 'XAF', 'XOF', 'XPF') then 1.000 else 0.010 end"
    ) }}
{%- endmacro %}
