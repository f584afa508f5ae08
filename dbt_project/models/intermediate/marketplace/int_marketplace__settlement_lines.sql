-- Marketplace settlement file rows as settlement lines (contract: marts/finance settlement_lines), provider = the
-- channel (marketplace_<name>). The Disbursement row is the transfer itself (int_marketplace__payouts), not a line.
-- The marketplace pays orders, not payment events: lines name their order and no payment (counterpart = order).
with

line_events as (

    select * from {{ ref('int_marketplace__settlement_line_events') }}
    where line_type <> 'payout'

)

select
    -- marketplace:settlement:file line, so no two marketplaces' (or providers') lines share an id
    cast(settlement_line_id as varchar) as settlement_line_id,
    channel_id as provider,
    cast(settlement_id as varchar) as payout_id,
    case
        when line_type in ('sale', 'refund', 'adjustment') then line_type
        when line_type in ('commission', 'shipping_fee', 'advertising_fee') then 'fee'
        -- a type a later mapping adds before this model knows it: posted as an adjustment, queued for a person
        else 'other'
    end as line_type,
    case
        when line_type = 'commission' then 'commission'
        when line_type = 'shipping_fee' then 'shipping_label'
        when line_type = 'advertising_fee' then 'advertising'
        -- the commission some marketplaces state on the sale's own line (Nordmarkt's Gebühr)
        when line_type in ('sale', 'refund') and gross_amount <> net_amount then 'commission'
        when gross_amount <> net_amount then 'other'
    end as fee_kind,
    cast(order_id as varchar) as order_reference,
    cast(null as varchar) as payment_reference,
    {{ as_money('gross_amount') }} as gross_amount,
    {{ as_money('gross_amount - net_amount') }} as fee_amount,
    {{ as_money('net_amount') }} as net_amount,
    currency,
    occurred_at as posted_at,
    case when order_id is not null then channel_id || ':order:' || order_id end as correlation_id

from line_events
