{#- Fails unless the model has exactly one row: for lookups that are joined without a key. -#}
{% test exactly_one_row(model) %}

select row_count
from (select count(*) as row_count from {{ model }}) as counted
where row_count <> 1

{% endtest %}
