-- The stores' sale tickets in the canonical shape (marts/canonical/_canonical__models.yml): one row per
-- Square order that sold something. A return-only ticket is not an order: its lines are in
-- int_pos__returns and count in the refunded_total of the order they take back.
-- Tips are not sales: order_total = gross_sales - discount_total + tax_total (no shipping in a
-- store) leaves them out, as it does Square's total_money; the tip stays in the tender's payment
-- event (int_pos__payments), which is what the customer paid and what the PSP captured.
with

orders as (

    select * from {{ ref('stg_square__orders') }}

),

stores as (

    select * from {{ ref('int_pos__store_locations') }}

),

line_totals as (

    select
        order_id,
        sum(unit_price * quantity) as gross_sales

    from {{ ref('stg_square__order_line_items') }}
    group by order_id

),

refund_totals as (

    select
        original_order_id as order_id,
        sum(refund_amount) as refunded_total

    from {{ ref('int_pos__returns') }}
    where original_channel_id = 'pos'
    group by original_order_id

),

totals as (

    select
        orders.*,
        stores.location_id as store_code,
        stores.time_zone,
        stores.channel_id,
        stores.legal_entity_id,
        {{ as_money('line_totals.gross_sales') }} as gross_sales,
        {{ as_money('coalesce(orders.discount_amount, 0)') }} as discount_total,
        {{ as_money('coalesce(orders.tax_amount, 0)') }} as tax_total,
        {{ as_money('coalesce(orders.tip_amount, 0)') }} as tip_total,
        {{ as_money('coalesce(refund_totals.refunded_total, 0)') }} as refunded_total

    from orders
    inner join line_totals
        on orders.order_id = line_totals.order_id
    left join stores
        on orders.location_id = stores.square_location_id
    left join refund_totals
        on orders.order_id = refund_totals.order_id

)

select
    order_id,
    'pos' as channel_id,
    receipt_number as order_number,
    legal_entity_id,
    store_code as location_id,
    customer_key,
    created_at as ordered_at,
    {{ local_date('created_at', 'time_zone') }} as business_date,
    currency,
    gross_sales,
    discount_total,
    {{ as_money('0') }} as shipping_total,
    tax_total,
    tip_total,
    {{ as_money('gross_sales - discount_total + tax_total') }} as order_total,
    refunded_total,
    case
        when order_state = 'CANCELED' then 'voided'
        when order_state <> 'COMPLETED' then 'pending'
        when refunded_total = 0 then 'paid'
        when refunded_total >= gross_sales - discount_total + tax_total then 'refunded'
        else 'partially_refunded'
    end as financial_status,
    'pos:order:' || order_id as correlation_id

from totals
