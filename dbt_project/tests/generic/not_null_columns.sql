{#- Fails on each row where any of the columns is null. One query per model for all its required columns:
    dbt spends ~40 ms on every test node, so a not_null test per column was most of a small build. -#}
{% test not_null_columns(model, columns) %}

select {{ columns | join(', ') }}
from {{ model }}
where {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}

{% endtest %}
