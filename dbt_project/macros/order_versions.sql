{#- Rows of an order's child table (Shopify line items, refunds, refund lines, adjustments; Square
    line items, tenders, returned lines) that belong to the order's latest version in `orders_model`,
    newest fetch first: an edited order can drop or change its children, so children of older
    versions must not survive staging. Rank 1 is the row to keep. -#}
{% macro children_of_latest_order_version(renamed, key, orders_model='stg_shopify__orders') -%}
    select
        {{ renamed }}.*,
        row_number() over (
            partition by {{ renamed }}.{{ key }}
            order by {{ renamed }}.extracted_at desc, {{ renamed }}.record_hash desc
        ) as version_rank

    from {{ renamed }}
    inner join {{ ref(orders_model) }} as latest_order_versions
        on {{ renamed }}.order_id = latest_order_versions.order_id
        and {{ renamed }}.order_updated_at = latest_order_versions.updated_at
{%- endmacro %}
