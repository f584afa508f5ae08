{#- Custom schemas are used verbatim (staging, intermediate, marts, seeds) instead of dbt's default
    <target_schema>_<custom>, so finance and Dagster can read `marts.<name>` on every warehouse. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
