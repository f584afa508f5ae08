-- Conservation: every raw marketplace settlement line reaches a staging row and a payment event; a sale
-- line also reaches an order line and a refund line a returned line. Returns the raw keys that reach
-- neither their canonical rows nor the quarantine.
with

raw_lines as (

    select distinct
        lower(marketplace) || ':' || cast(settlement_id as varchar) || ':' || cast(line_number as varchar)
            as record_key
    from {{ source('marketplace', 'settlement_lines') }}

),

staged as (

    select * from {{ ref('stg_marketplace__settlement_lines') }}

),

line_events as (

    select * from {{ ref('int_marketplace__settlement_line_events') }}

),

reached as (

    select
        raw_lines.record_key,
        staged.line_type,
        payments.payment_id as reached_payment,
        order_lines.order_line_id as reached_order_line,
        returns.return_line_id as reached_return

    from raw_lines
    left join staged
        on raw_lines.record_key = staged.settlement_line_id
    left join line_events
        on staged.settlement_line_id = line_events.settlement_line_id
    left join {{ ref('int_marketplace__payments') }} as payments
        on line_events.channel_id = payments.provider
        and line_events.payment_id = payments.payment_id
    left join {{ ref('int_marketplace__order_lines') }} as order_lines
        on staged.line_type = 'sale'
        and staged.channel_id = order_lines.channel_id
        and staged.order_id || ':' || coalesce(staged.sku, '') = order_lines.order_line_id
    left join {{ ref('int_marketplace__returns') }} as returns
        on staged.line_type = 'refund'
        and staged.channel_id = returns.channel_id
        and staged.settlement_id || ':' || cast(staged.line_number as varchar) = returns.return_line_id

),

quarantined as (

    select stream, record_id from {{ ref('stg_marketplace__quarantine') }}

)

select reached.*
from reached
where (
        reached.reached_payment is null
        or (reached.line_type = 'sale' and reached.reached_order_line is null)
        or (reached.line_type = 'refund' and reached.reached_return is null)
    )
    and not exists (
        select 1 from quarantined
        where quarantined.stream = 'settlement_lines'
            and quarantined.record_id = reached.record_key
    )
