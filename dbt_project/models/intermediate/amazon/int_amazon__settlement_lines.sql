-- Amazon settlement report rows as settlement lines (contract: marts/finance settlement_lines), one line per
-- row. The ItemPrice and Promotion amounts of an order's transaction are what the buyer paid or got back
-- (sale, refund, chargeback); its other amounts are fees Amazon keeps or gives back (referral fee, the sales
-- tax it withholds as marketplace facilitator, ...). The report's summary row is the transfer itself
-- (int_amazon__payouts), never a line. Amazon names no payment: lines name their order and are matched to it.
with

row_events as (

    select * from {{ ref('int_amazon__settlement_row_events') }}

),

sales_channel as (

    select * from {{ ref('int_amazon__sales_channel') }}

),

classified as (

    select
        row_events.*,
        -- Amazon spells a kind of amount in the transaction type, the amount type or the description,
        -- depending on the report's vintage: look at all three.
        lower(
            coalesce(transaction_type, '') || '|' || coalesce(amount_type, '') || '|'
            || coalesce(amount_description, '')
        ) as amount_text,
        case
            when order_id is null
                and lower(coalesce(transaction_type, '') || '|' || coalesce(amount_description, ''))
                    like '%current reserve amount%' then 'reserve_hold'
            when order_id is null
                and lower(coalesce(transaction_type, '') || '|' || coalesce(amount_description, ''))
                    like '%previous reserve amount balance%' then 'reserve_release'
            when event_type in ('sale', 'refund', 'chargeback') and amount_type in ('ItemPrice', 'Promotion')
                then event_type
            when event_type in ('sale', 'refund', 'chargeback', 'fee') then 'fee'
            else 'adjustment'
        end as line_type

    from row_events

)

select
    'amazon:' || classified.settlement_row_id as settlement_line_id,
    'amazon' as provider,
    {{ id_text('classified.settlement_id') }} as payout_id,
    classified.line_type,
    case
        when classified.line_type <> 'fee' then cast(null as varchar)
        when classified.amount_text like '%withheld%' or classified.amount_text like '%facilitatortax%'
            then 'withheld_tax'
        when classified.amount_text like '%commission%' or classified.amount_text like '%referral%'
            or classified.amount_text like '%closingfee%' or classified.amount_text like '%closing fee%'
            then 'commission'
        when classified.amount_text like '%fba%' or classified.amount_text like '%fulfil%'
            or classified.amount_text like '%storage%' or classified.amount_text like '%shippingchargeback%'
            or classified.amount_text like '%shippinghb%' then 'fulfilment'
        when classified.amount_text like '%label%' then 'shipping_label'
        when classified.amount_text like '%advertis%' then 'advertising'
        when classified.amount_text like '%subscription%' then 'subscription'
        else 'other'
    end as fee_kind,
    {{ id_text('classified.order_id') }} as order_reference,
    cast(null as varchar) as payment_reference,
    {{ as_money("case when classified.line_type = 'fee' then 0 else classified.amount end") }} as gross_amount,
    -- The report signs from the seller's side; a fee is what Amazon keeps, so the other way round.
    {{ as_money("case when classified.line_type = 'fee' then -classified.amount else 0 end") }} as fee_amount,
    {{ as_money('classified.amount') }} as net_amount,
    classified.currency,
    coalesce(
        classified.posted_at, cast(classified.posted_date as timestamp) at time zone 'UTC'
    ) as posted_at,
    case
        when classified.order_id is not null then sales_channel.channel_id || ':order:' || classified.order_id
    end as correlation_id

from classified
cross join sales_channel
