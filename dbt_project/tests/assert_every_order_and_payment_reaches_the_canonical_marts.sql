-- Shown in Dagster as a check on payments.
{{ config(meta={'dagster': {'ref': {'name': 'payments'}}}) }}
-- Conservation: every Shopify order and every successful transaction landed in raw reaches the
-- canonical marts (failed validation goes to _quarantine instead, and never reaches raw tables);
-- a transaction through a PSP read directly (Stripe) is that PSP's payment event instead.
select 'order' as record_type, cast(raw.id as varchar) as record_id
from {{ source('shopify', 'orders') }} as raw
where not exists (
    select 1 from {{ ref('orders') }} as orders
    where orders.channel_id = '{{ var("shopify_channel_id") }}'
        and orders.order_id = cast(raw.id as varchar)
)

union

-- A transaction is immutable per id, so its latest fetch decides whether it succeeded.
select 'payment' as record_type, transactions.transaction_id as record_id
from {{ ref('stg_shopify__transactions') }} as transactions
where transactions.transaction_status = 'success'
    and coalesce(transactions.gateway, '') not in (
        {%- for gateway in var('psp_gateways_read_directly') %}'{{ gateway }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )
    and not exists (
        select 1 from {{ ref('payments') }} as payments
        where payments.provider = 'shopify_payments'
            and payments.payment_id = transactions.transaction_id
    )
