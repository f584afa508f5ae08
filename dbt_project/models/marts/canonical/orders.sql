-- Every channel's orders (int_<channel>__orders), keyed across channels, with functional-currency totals.
with

orders as (

    {{ union_contributors('orders') }}

),

entities as (

    select legal_entity_id, functional_currency from {{ ref('legal_entities') }}

),

converted as (

    select
        orders.*,
        entities.functional_currency,
        {{ fx_rate('rates', 'orders.currency', 'entities.functional_currency', 'orders.business_date') }} as fx_rate

    from orders
    inner join entities
        on orders.legal_entity_id = entities.legal_entity_id

)

select
    channel_id || ':' || order_id as order_key,
    order_id,
    channel_id,
    order_number,
    legal_entity_id,
    location_id,
    customer_key,
    ordered_at,
    business_date,
    currency,
    gross_sales,
    discount_total,
    shipping_total,
    tax_total,
    tip_total,
    order_total,
    refunded_total,
    financial_status,
    functional_currency,
    fx_rate,
    {{ as_money(times_rate('order_total', 'fx_rate')) }} as order_total_functional,
    correlation_id

from converted
