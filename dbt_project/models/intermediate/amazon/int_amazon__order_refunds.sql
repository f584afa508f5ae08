-- Amazon refunds per order item, from the settlement reports' Refund rows (the Orders API does not show
-- refunds). One row per refund (adjustment) and order item: what the buyer got back for it, tax and
-- shipping included (the ItemPrice and Promotion rows, made positive).
with

row_events as (

    select * from {{ ref('int_amazon__settlement_row_events') }}
    where transaction_type = 'Refund'
        and order_id is not null
        and order_item_id is not null

),

settlement_rows as (

    select settlement_row_id, adjustment_id, quantity_purchased, sku
    from {{ ref('stg_amazon__settlement_report_rows') }}

)

select
    -- An adjustment refunds items of one order; its id with the item's id names the returned line.
    coalesce(settlement_rows.adjustment_id, row_events.settlement_id || ':' || row_events.order_id)
        || ':' || row_events.order_item_id as return_line_id,
    coalesce(settlement_rows.adjustment_id, row_events.settlement_id || ':' || row_events.order_id) as return_id,
    row_events.order_id,
    row_events.order_item_id,
    max(settlement_rows.sku) as sku,
    max(settlement_rows.quantity_purchased) as quantity_refunded,
    {{ as_money('-sum(row_events.gross_amount)') }} as refund_amount,
    min(row_events.currency) as currency,
    min(coalesce(row_events.posted_at, cast(row_events.posted_date as timestamp) at time zone 'UTC')) as refunded_at,
    min(row_events.posted_date) as posted_date,
    min(case when row_events.posted_at is null then 1 else 0 end) as has_no_instant

from row_events
inner join settlement_rows
    on row_events.settlement_row_id = settlement_rows.settlement_row_id
group by 1, 2, 3, 4
