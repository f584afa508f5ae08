-- Every Amazon settlement report row with the payment event it belongs to (int_amazon__payments adds
-- them up). Amazon pays the seller, so the report is the payment record:
-- - the rows of one transaction of one order (an Order's shipment, a Refund's adjustment) are one event:
--   Order -> sale, Refund -> refund, a chargeback -> chargeback, anything else about an order -> adjustment.
--   Their ItemPrice and Promotion amounts are the event's gross (what the buyer paid or got back, tax
--   included); every other amount (ItemFees, the marketplace-facilitator tax Amazon withholds and remits,
--   ...) is what Amazon keeps or gives back: the event's fee, with the opposite sign;
-- - a row about no order (a subscription fee, a reimbursement) is an event of its own: a fee when it is a
--   charge named as a fee or commission (gross 0), else an adjustment (all gross).
with

settlement_rows as (

    select * from {{ ref('stg_amazon__settlement_report_rows') }}

),

keyed as (

    select
        settlement_rows.*,
        order_id is not null and transaction_type is not null as is_order_transaction,
        amount < 0 and (
            lower(coalesce(amount_description, '')) like '%fee%'
            or lower(coalesce(amount_description, '')) like '%commission%'
            or lower(coalesce(amount_type, '')) like '%fee%'
        ) as is_fee_charge

    from settlement_rows

)

select
    settlement_row_id,
    settlement_id,
    line_number,
    case
        when is_order_transaction then
            settlement_id || ':' || lower(transaction_type) || ':' || order_id
            || ':' || coalesce(adjustment_id, shipment_id, '')
        else settlement_row_id
    end as payment_id,
    case
        when not is_order_transaction then settlement_row_id
        when transaction_type = 'Refund' then coalesce(adjustment_id, order_id)
        else coalesce(shipment_id, adjustment_id, order_id)
    end as provider_reference,
    case
        when is_order_transaction and transaction_type = 'Order' then 'sale'
        when is_order_transaction and transaction_type = 'Refund' then 'refund'
        when is_order_transaction and lower(transaction_type) like '%chargeback%' then 'chargeback'
        when is_order_transaction then 'adjustment'
        when is_fee_charge then 'fee'
        else 'adjustment'
    end as event_type,
    case when is_order_transaction then order_id end as order_id,
    order_item_id,
    transaction_type,
    amount_type,
    amount_description,
    case
        when is_order_transaction and amount_type in ('ItemPrice', 'Promotion') then amount
        when is_order_transaction or is_fee_charge then {{ as_money('0') }}
        else amount
    end as gross_amount,
    amount,
    currency,
    posted_date,
    posted_at,
    settlement_total_amount,
    deposit_at,
    settlement_end_at

from keyed
