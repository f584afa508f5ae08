-- Units sold but not shipped yet, per location, SKU and business date: canonical order lines placed on or
-- before the day, less what the WMS shipped for them by the day's cut-off. Only channels whose orders ship
-- later commit stock (a store sale leaves with the customer); voided orders commit nothing.
with

shipping_channels as (

    select channel_id from {{ ref('ats_channel_rules') }}
    where not fulfilled_at_sale

),

ordered as (

    select
        order_lines.order_id,
        order_lines.location_id,
        order_lines.sku,
        orders.business_date as order_date,
        sum(order_lines.quantity) as ordered_units

    from {{ ref('order_lines') }} as order_lines
    inner join {{ ref('orders') }} as orders
        on orders.order_key = order_lines.order_key
    inner join shipping_channels
        on shipping_channels.channel_id = order_lines.channel_id
    where orders.financial_status <> 'voided'
    group by order_lines.order_id, order_lines.location_id, order_lines.sku, orders.business_date

),

shipped as (

    select
        ordered.order_id,
        ordered.location_id,
        ordered.sku,
        movements.business_date as ship_date,
        sum(-movements.quantity) over (
            partition by ordered.order_id, ordered.location_id, ordered.sku
            order by movements.business_date
            rows between unbounded preceding and current row
        ) as shipped_to_date

    from ordered
    inner join (
        select reference, location_id, sku, business_date, sum(quantity) as quantity
        from {{ ref('int_inventory__movements') }}
        where movement_type = 'ship'
        group by reference, location_id, sku, business_date
    ) as movements
        on movements.reference = ordered.order_id
        and movements.location_id = ordered.location_id
        and movements.sku = ordered.sku

),

open_until as (

    -- The first day by whose cut-off everything ordered had shipped (null: still open).
    select
        ordered.order_id,
        ordered.location_id,
        ordered.sku,
        ordered.order_date,
        ordered.ordered_units,
        min(case when shipped.shipped_to_date >= ordered.ordered_units then shipped.ship_date end)
            as fully_shipped_date

    from ordered
    left join shipped
        on shipped.order_id = ordered.order_id
        and shipped.location_id = ordered.location_id
        and shipped.sku = ordered.sku
    group by ordered.order_id, ordered.location_id, ordered.sku, ordered.order_date, ordered.ordered_units

),

calendar as (

    select distinct business_date from {{ ref('int_inventory__end_of_day_stock') }}

),

open_days as (

    select
        open_until.order_id,
        open_until.location_id,
        open_until.sku,
        calendar.business_date,
        open_until.ordered_units,
        coalesce(max(shipped.shipped_to_date), 0) as shipped_units

    from open_until
    inner join calendar
        on calendar.business_date >= open_until.order_date
        and (open_until.fully_shipped_date is null or calendar.business_date < open_until.fully_shipped_date)
    left join shipped
        on shipped.order_id = open_until.order_id
        and shipped.location_id = open_until.location_id
        and shipped.sku = open_until.sku
        and shipped.ship_date <= calendar.business_date
    group by open_until.order_id, open_until.location_id, open_until.sku, calendar.business_date,
        open_until.ordered_units

)

select
    location_id,
    sku,
    business_date,
    cast(sum(greatest(ordered_units - shipped_units, 0)) as integer) as committed_units,
    count(*) as open_orders

from open_days
group by location_id, sku, business_date
