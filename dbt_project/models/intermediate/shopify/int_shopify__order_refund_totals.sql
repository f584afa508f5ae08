-- Money actually returned per order: successful refund transactions (a refund record without a
-- successful transaction has not moved money yet).
select
    order_id,
    count(*) as refund_transaction_count,
    sum(amount) as refunded_total

from {{ ref('stg_shopify__transactions') }}
where transaction_kind = 'refund'
    and transaction_status = 'success'
group by order_id
