{% macro ats_after_buffer(available, buffer_percent, buffer_units) -%}
    {#- A channel's share of what is available: the percentage buffer rounded in the buffer's favour (floor of
        what is left), then the fixed buffer; never below zero. Integer arithmetic on both warehouses. -#}
    cast(greatest(floor(({{ available }}) * (100 - {{ buffer_percent }}) / 100.0) - {{ buffer_units }}, 0) as integer)
{%- endmacro %}
