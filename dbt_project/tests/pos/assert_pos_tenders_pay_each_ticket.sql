-- The tenders of every ticket pay it: Σ sale events of the order = order_total + its tips (a tender's
-- gross includes its tip); and the money refunded for a POS order's returns is the refunded_total.
with

orders as (

    select * from {{ ref('int_pos__orders') }}

),

tips as (

    select order_id, tip_amount from {{ ref('stg_square__orders') }}

),

tendered as (

    select order_id, sum(gross_amount) as tendered

    from {{ ref('int_pos__payments') }}
    where event_type = 'sale'
    group by order_id

),

refunded as (

    select order_id, -sum(gross_amount) as refunded

    from {{ ref('int_pos__payments') }}
    where event_type = 'refund' and channel_id = 'pos'
    group by order_id

)

select
    orders.order_id,
    orders.order_total,
    tips.tip_amount,
    tendered.tendered,
    orders.refunded_total,
    refunded.refunded

from orders
left join tips
    on orders.order_id = tips.order_id
left join tendered
    on orders.order_id = tendered.order_id
left join refunded
    on orders.order_id = refunded.order_id
where coalesce(tendered.tendered, 0) <> orders.order_total + coalesce(tips.tip_amount, 0)
    or coalesce(refunded.refunded, 0) <> orders.refunded_total
