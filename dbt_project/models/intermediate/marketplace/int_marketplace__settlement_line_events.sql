-- Every marketplace settlement line with the payment event it belongs to (int_marketplace__payments adds
-- them up), and its time in the channel's zone. The marketplace collects from the buyer and pays the
-- seller, so its settlement is the payment record:
-- - the lines of one order in one settlement are two events at most: the sale (its sale lines with the
--   commission and shipping label charged on it) and the refund (its refund lines with the commission
--   given back, a positive fee line); a sale or refund line is gross, a fee line is fee (opposite sign);
--   a fee stated on the line itself (some marketplaces put the commission there) is fee too;
-- - a line about no order is an event of its own: advertising -> fee (gross 0), adjustment -> adjustment
--   (all gross), the Disbursement -> payout (gross = -amount: money leaving the marketplace's balance).
with

settlement_lines as (

    select * from {{ ref('stg_marketplace__settlement_lines') }}

),

sales_channels as (

    select * from {{ ref('int_marketplace__sales_channels') }}

),

keyed as (

    select
        settlement_lines.*,
        sales_channels.time_zone,
        settlement_lines.order_id is not null
            and settlement_lines.line_type in ('sale', 'refund', 'commission', 'shipping_fee') as is_order_line,
        case
            when settlement_lines.line_type in ('sale', 'refund') then settlement_lines.line_type
            when settlement_lines.amount > 0 then 'refund'
            else 'sale'
        end as order_side

    from settlement_lines
    inner join sales_channels
        on settlement_lines.channel_id = sales_channels.channel_id

)

select
    settlement_line_id,
    channel_id,
    marketplace,
    settlement_id,
    line_number,
    case
        when is_order_line then settlement_id || ':' || order_side || ':' || order_id
        else settlement_id || ':' || cast(line_number as varchar)
    end as payment_id,
    case
        when is_order_line then order_id
        else settlement_id || ':' || cast(line_number as varchar)
    end as provider_reference,
    case
        when is_order_line then order_side
        when line_type in ('sale', 'refund', 'adjustment', 'payout') then line_type
        else 'fee'
    end as event_type,
    order_id,
    sku,
    line_type,
    quantity,
    {{ as_money(
        "case when line_type in ('sale', 'refund', 'adjustment') then amount"
        ~ " when line_type = 'payout' then -amount else 0 end"
    ) }} as gross_amount,
    -- What the line adds to the seller's side (a payout takes it out of the marketplace's balance).
    {{ as_money("case when line_type = 'payout' then -amount else amount + coalesce(fee_amount, 0) end") }}
        as net_amount,
    amount,
    currency,
    coalesce(posted_at, {{ marketplace_local_midnight('posted_date', 'time_zone') }}) as occurred_at,
    -- A posting date is already the marketplace's local date; an instant is dated in the entity's zone.
    case
        when posted_at is null then posted_date
        else {{ local_date('posted_at', 'time_zone') }}
    end as business_date

from keyed
