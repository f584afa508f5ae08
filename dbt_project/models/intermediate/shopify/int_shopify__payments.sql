-- Shopify's order transactions as canonical payment events. A transaction through an external
-- gateway whose PSP omnirecon reads itself (Stripe) is left out: the PSP's own record (charge,
-- refund) is that payment event, with its fee, and must not be counted twice.
with

transactions as (

    -- Failed and pending attempts moved no money.
    select * from {{ ref('stg_shopify__transactions') }}
    where transaction_status = 'success'
        and coalesce(gateway, '') not in (
            {%- for gateway in var('psp_gateways_read_directly') %}'{{ gateway }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        )

),

sales_channel as (

    select * from {{ ref('int_shopify__sales_channel') }}

),

classified as (

    select
        transactions.*,
        coalesce(transactions.processed_at, transactions.created_at) as occurred_at,
        case
            when transactions.gateway = 'shopify_payments' then 'shopify_payments'
            else coalesce(lower(transactions.gateway), 'unknown')
        end as provider,
        case
            when transactions.gateway = 'shopify_payments' then 'card'
            when transactions.gateway = 'gift_card' then 'gift_card'
            else 'other'
        end as tender_type,
        -- Money out of the shop is negative. Authorizations and voids keep their amount but are
        -- informational: only captures, sales and refunds move money.
        case
            when transactions.transaction_kind = 'refund' then -transactions.amount
            else transactions.amount
        end as signed_amount

    from transactions

)

select
    classified.transaction_id as payment_id,
    classified.provider,
    classified.authorization_code as provider_reference,
    sales_channel.channel_id,
    classified.order_id,
    classified.transaction_kind as event_type,
    classified.tender_type,
    {{ as_money('classified.signed_amount') }} as gross_amount,
    -- The provider's fee is known only at settlement (settlement_lines.fee_amount).
    {{ as_money('0') }} as fee_amount,
    {{ as_money('classified.signed_amount') }} as net_amount,
    classified.currency,
    classified.occurred_at,
    {{ local_date('classified.occurred_at', 'sales_channel.time_zone') }} as business_date,
    sales_channel.channel_id || ':order:' || classified.order_id as correlation_id

from classified
cross join sales_channel
