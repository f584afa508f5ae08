-- Marketplace order lines from the sale lines of the settlement files: one line per order and SKU
-- (order_line_id = order_id || ':' || sku, since the files give no line id; a refund line names the same
-- order and SKU, so it links back). The marketplace is the marketplace facilitator: it collects and remits
-- the sales tax, so the seller's lines carry none, and prices are tax-exclusive.
with

line_events as (

    select * from {{ ref('int_marketplace__settlement_line_events') }}
    where line_type = 'sale'
        and order_id is not null

),

lines as (

    select
        channel_id,
        order_id,
        sku,
        order_id || ':' || coalesce(sku, '') as order_line_id,
        cast(sum(coalesce(quantity, 1)) as integer) as quantity,
        {{ as_money('sum(amount)') }} as gross_amount,
        min(currency) as currency

    from line_events
    group by channel_id, order_id, sku

)

select
    order_line_id,
    order_id,
    channel_id,
    sku,
    quantity,
    {{ marketplace_unit_price('gross_amount', 'quantity') }} as unit_price,
    gross_amount,
    {{ as_money('0') }} as discount_amount,
    {{ as_money('0') }} as tax_amount,
    gross_amount as net_amount,
    currency,
    channel_id || ':order:' || order_id as correlation_id

from lines
