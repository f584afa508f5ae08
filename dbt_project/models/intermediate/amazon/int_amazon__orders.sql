-- Amazon orders in the canonical shape. Money is added up from the order's items (Amazon's OrderTotal is
-- null for a cancelled order, and the invariant test ties it to the items where it is stated):
-- gross_sales Σ ItemPrice, discount_total Σ PromotionDiscount, shipping_total Σ (ShippingPrice -
-- ShippingDiscount), tax_total Σ the items' and shipping's taxes less the discounts' taxes. Refunds come
-- from the settlement reports. A cancelled order stays, with financial_status 'voided'.
with

orders as (

    select * from {{ ref('stg_amazon__orders') }}

),

items as (

    select * from {{ ref('stg_amazon__order_items') }}

),

refunds as (

    select order_id, sum(refund_amount) as refunded_total
    from {{ ref('int_amazon__order_refunds') }}
    group by order_id

),

sales_channel as (

    select * from {{ ref('int_amazon__sales_channel') }}

),

item_totals as (

    select
        order_id,
        min(currency) as currency,
        sum(coalesce(item_price_amount, 0)) as gross_sales,
        sum(coalesce(promotion_discount_amount, 0)) as discount_total,
        sum(coalesce(shipping_price_amount, 0) - coalesce(shipping_discount_amount, 0)) as shipping_total,
        sum(
            coalesce(item_tax_amount, 0) - coalesce(promotion_discount_tax_amount, 0)
            + coalesce(shipping_tax_amount, 0) - coalesce(shipping_discount_tax_amount, 0)
        ) as tax_total

    from items
    group by order_id

),

totals as (

    select
        orders.*,
        {{ as_money('coalesce(item_totals.gross_sales, 0)') }} as gross_sales,
        {{ as_money('coalesce(item_totals.discount_total, 0)') }} as discount_total,
        {{ as_money('coalesce(item_totals.shipping_total, 0)') }} as shipping_total,
        {{ as_money('coalesce(item_totals.tax_total, 0)') }} as tax_total,
        {{ as_money('coalesce(refunds.refunded_total, 0)') }} as refunded_total,
        coalesce(orders.order_total_currency, item_totals.currency) as currency

    from orders
    left join item_totals
        on orders.order_id = item_totals.order_id
    left join refunds
        on orders.order_id = refunds.order_id

)

select
    totals.order_id,
    sales_channel.channel_id,
    totals.order_id as order_number,
    sales_channel.legal_entity_id,
    -- Merchant-fulfilled orders ship from the 3PL's warehouse.
    '{{ var("amazon_fulfilment_location", "WH-NJ") }}' as location_id,
    totals.customer_key,
    totals.purchased_at as ordered_at,
    {{ local_date('totals.purchased_at', 'sales_channel.time_zone') }} as business_date,
    totals.currency,
    totals.gross_sales,
    totals.discount_total,
    totals.shipping_total,
    totals.tax_total,
    {{ as_money('0') }} as tip_total,
    {{ as_money('totals.gross_sales - totals.discount_total + totals.shipping_total + totals.tax_total') }}
        as order_total,
    totals.refunded_total,
    -- Amazon charges the buyer when it ships: before that the order is pending.
    case
        when totals.order_status = 'Canceled' then 'voided'
        when totals.refunded_total > 0
            and totals.refunded_total >= totals.gross_sales - totals.discount_total
                + totals.shipping_total + totals.tax_total then 'refunded'
        when totals.refunded_total > 0 then 'partially_refunded'
        when totals.order_status = 'Shipped' then 'paid'
        when totals.order_status = 'PartiallyShipped' then 'partially_paid'
        else 'pending'
    end as financial_status,
    sales_channel.channel_id || ':order:' || totals.order_id as correlation_id

from totals
cross join sales_channel
