-- The stores' finance check: every figure of a store-day's Z report equals what the canonical POS
-- models hold for that store and business day (the store's local date), and every store-day with
-- tickets has a Z report. Returns each disagreeing figure (a Z line quarantined at load is absent,
-- not compared). Z conventions (connectors/square/z_report.py): Tenders include tips; Returns are
-- merchandise net of discount without tax; Tax is sales tax less tax refunded; refunds are negative.
with

z as (

    select * from {{ ref('stg_square__z_reports') }}

),

stores as (

    select * from {{ ref('int_pos__store_locations') }}

),

orders as (

    select * from {{ ref('int_pos__orders') }}

),

units as (

    select orders.location_id, orders.business_date, sum(lines.quantity) as units
    from {{ ref('int_pos__order_lines') }} as lines
    inner join orders
        on lines.order_id = orders.order_id
    group by orders.location_id, orders.business_date

),

returns as (

    select
        returns.*,
        square_returns.tax_amount

    from {{ ref('int_pos__returns') }} as returns
    inner join {{ ref('stg_square__order_returns') }} as square_returns
        on returns.return_line_id = square_returns.return_line_id

),

-- where each payment event happened: the store of its Square payment or refund
event_locations as (

    select payment_id, location_id from {{ ref('stg_square__payments') }}
    union all
    select refund_id, location_id from {{ ref('stg_square__refunds') }}

),

payments as (

    select
        payments.*,
        stores.location_id as store_code

    from {{ ref('int_pos__payments') }} as payments
    inner join event_locations
        on payments.payment_id = event_locations.payment_id
    inner join stores
        on event_locations.location_id = stores.square_location_id

),

store_days as (

    select location_id, business_date from orders
    union
    select location_id, business_date from returns
    union
    select store_code, business_date from payments

),

sales as (

    select
        location_id,
        business_date,
        count(*) as tickets,
        sum(gross_sales) as gross_sales,
        sum(case when discount_total <> 0 then 1 else 0 end) as discounted_tickets,
        sum(discount_total) as discount_total,
        sum(tax_total) as tax_total,
        sum(order_total) as order_total

    from orders
    group by location_id, business_date

),

returned as (

    select
        location_id,
        business_date,
        count(distinct return_id) as return_tickets,
        sum(quantity) as units,
        sum(refund_amount - tax_amount) as merchandise,
        sum(tax_amount) as tax_amount

    from returns
    group by location_id, business_date

),

money as (

    select
        store_code as location_id,
        business_date,
        tender_type,
        event_type,
        count(*) as events,
        sum(gross_amount) as gross_amount

    from payments
    group by store_code, business_date, tender_type, event_type

),

expected as (

    select
        store_days.location_id,
        store_days.business_date,
        coalesce(units.units, 0) as gross_units,
        coalesce(sales.gross_sales, 0) as gross_sales,
        coalesce(sales.discounted_tickets, 0) as discounted_tickets,
        coalesce(sales.discount_total, 0) as discount_total,
        coalesce(returned.units, 0) as returned_units,
        coalesce(returned.merchandise, 0) as returned_merchandise,
        coalesce(sales.tax_total, 0) - coalesce(returned.tax_amount, 0) as tax,
        coalesce(sales.tickets, 0) as sales_tickets,
        coalesce(returned.return_tickets, 0) as return_tickets,
        coalesce(sales.order_total, 0) as order_total

    from store_days
    left join units
        on store_days.location_id = units.location_id and store_days.business_date = units.business_date
    left join sales
        on store_days.location_id = sales.location_id and store_days.business_date = sales.business_date
    left join returned
        on store_days.location_id = returned.location_id and store_days.business_date = returned.business_date

),

tendered as (

    select
        expected.location_id,
        expected.business_date,
        labels.tender_type,
        labels.label,
        coalesce(sale_money.events, 0) as sale_events,
        coalesce(sale_money.gross_amount, 0) as sale_amount,
        coalesce(refund_money.events, 0) as refund_events,
        coalesce(refund_money.gross_amount, 0) as refund_amount

    from expected
    cross join (
        select 'card' as tender_type, 'Card' as label
        union all select 'cash', 'Cash'
        union all select 'gift_card', 'Gift Card'
    ) as labels
    left join money as sale_money
        on expected.location_id = sale_money.location_id and expected.business_date = sale_money.business_date
        and labels.tender_type = sale_money.tender_type and sale_money.event_type = 'sale'
    left join money as refund_money
        on expected.location_id = refund_money.location_id and expected.business_date = refund_money.business_date
        and labels.tender_type = refund_money.tender_type and refund_money.event_type = 'refund'

),

collected as (

    select
        location_id,
        business_date,
        sum(sale_amount) as tenders,
        sum(sale_amount + refund_amount) as total_collected

    from tendered
    group by location_id, business_date

),

figures as (

    -- (store, day, section, line, expected count or null, expected amount or null)
    select location_id, business_date, 'Sales' as section, 'Gross Sales' as line_name,
        gross_units as expected_count, gross_sales as expected_amount
    from expected
    union all
    select location_id, business_date, 'Sales', 'Discounts', discounted_tickets, -discount_total from expected
    union all
    select location_id, business_date, 'Sales', 'Returns', returned_units, -returned_merchandise from expected
    union all
    select location_id, business_date, 'Sales', 'Net Sales', null,
        gross_sales - discount_total - returned_merchandise
    from expected
    union all
    select location_id, business_date, 'Sales', 'Tax', null, tax from expected
    union all
    -- tips: what the tenders took beyond the tickets' totals
    select expected.location_id, expected.business_date, 'Sales', 'Tips', null,
        collected.tenders - expected.order_total
    from expected
    inner join collected
        on expected.location_id = collected.location_id and expected.business_date = collected.business_date
    union all
    select location_id, business_date, 'Sales', 'Total Collected', null, total_collected from collected
    union all
    select location_id, business_date, 'Tenders', label, sale_events, sale_amount from tendered
    union all
    select location_id, business_date, 'Refunds', label, refund_events, refund_amount from tendered
    union all
    select location_id, business_date, 'Cash Drawer', 'Cash Sales', null, sale_amount
    from tendered where tender_type = 'cash'
    union all
    select location_id, business_date, 'Cash Drawer', 'Cash Refunds', null, refund_amount
    from tendered where tender_type = 'cash'
    union all
    select location_id, business_date, 'Counts', 'Sales Tickets', sales_tickets, null from expected
    union all
    select location_id, business_date, 'Counts', 'Return Tickets', return_tickets, null from expected
    union all
    select location_id, business_date, 'Counts', 'Transactions', sales_tickets + return_tickets, null from expected

),

reported_days as (

    select distinct store_code, business_date from z

)

select
    figures.location_id,
    figures.business_date,
    figures.section,
    figures.line_name,
    figures.expected_count,
    z.line_count as reported_count,
    figures.expected_amount,
    z.amount as reported_amount

from figures
inner join z
    on figures.location_id = z.store_code
    and figures.business_date = z.business_date
    and figures.section = z.section
    and figures.line_name = z.line_name
where (figures.expected_count is not null and coalesce(z.line_count, -1) <> figures.expected_count)
    or (figures.expected_amount is not null and z.amount is not null and z.amount <> figures.expected_amount)

union all

-- a store-day with tickets but no Z report at all
select
    expected.location_id,
    expected.business_date,
    'Z Report',
    'missing',
    expected.sales_tickets + expected.return_tickets,
    null,
    null,
    null

from expected
left join reported_days
    on expected.location_id = reported_days.store_code and expected.business_date = reported_days.business_date
where reported_days.store_code is null
