-- A store sale's returned line links to a POS order line of the same SKU, never for more units than it
-- sold (a web order's lines are checked where the web shop's canonical lines are, in the returns mart).
with

returns as (

    select * from {{ ref('int_pos__returns') }}
    where original_channel_id = 'pos'

),

lines as (

    select * from {{ ref('int_pos__order_lines') }}

),

returned as (

    select original_order_line_id, sum(quantity) as quantity
    from returns
    group by original_order_line_id

)

select
    returns.return_line_id,
    returns.original_order_line_id,
    returns.sku,
    lines.sku as sold_sku

from returns
left join lines
    on returns.original_order_line_id = lines.order_line_id
    and returns.original_order_id = lines.order_id
left join returned
    on returns.original_order_line_id = returned.original_order_line_id
where lines.order_line_id is null
    or lines.sku <> returns.sku
    or returned.quantity > lines.quantity
