-- Conservation: every raw Amazon record (an order, an order item, a settlement report row) reaches a staging
-- row that reaches a canonical intermediate row (an order, an order line, a payment event), or is in the
-- quarantine. Returns the raw keys that reach neither.
with

raw_orders as (

    select distinct cast(amazon_order_id as varchar) as record_key
    from {{ source('amazon', 'orders') }}

),

raw_items as (

    select distinct cast(order_item_id as varchar) as record_key
    from {{ source('amazon', 'order_items') }}

),

raw_settlement_rows as (

    select distinct cast(settlement_id as varchar) || ':' || cast(line_number as varchar) as record_key
    from {{ source('amazon', 'settlement_report_rows') }}

),

quarantined as (

    select stream, record_id from {{ ref('stg_amazon__quarantine') }}

),

orders_lost as (

    select 'orders' as stream, raw_orders.record_key
    from raw_orders
    left join {{ ref('stg_amazon__orders') }} as staged
        on raw_orders.record_key = staged.order_id
    left join {{ ref('int_amazon__orders') }} as canonical
        on staged.order_id = canonical.order_id
    where canonical.order_id is null

),

items_lost as (

    select 'order_items' as stream, raw_items.record_key
    from raw_items
    left join {{ ref('stg_amazon__order_items') }} as staged
        on raw_items.record_key = staged.order_item_id
    left join {{ ref('int_amazon__order_lines') }} as canonical
        on staged.order_item_id = canonical.order_line_id
    where canonical.order_line_id is null

),

settlement_rows_lost as (

    select 'settlement_report_rows' as stream, raw_settlement_rows.record_key
    from raw_settlement_rows
    left join {{ ref('stg_amazon__settlement_report_rows') }} as staged
        on raw_settlement_rows.record_key = staged.settlement_row_id
    left join {{ ref('int_amazon__settlement_row_events') }} as row_events
        on staged.settlement_row_id = row_events.settlement_row_id
    left join {{ ref('int_amazon__payments') }} as canonical
        on row_events.payment_id = canonical.payment_id
    where canonical.payment_id is null

),

lost as (

    select * from orders_lost
    union all
    select * from items_lost
    union all
    select * from settlement_rows_lost

)

select lost.stream, lost.record_key
from lost
where not exists (
    select 1 from quarantined
    where quarantined.stream = lost.stream
        and quarantined.record_id = lost.record_key
)
