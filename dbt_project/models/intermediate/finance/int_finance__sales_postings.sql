{#- What each order and refund contributes to its sales journal (one per legal entity, channel, location and
    business date; docs/postings.md): revenue, discounts, shipping, tax and tips of the orders of the day,
    against the clearing account of how the customer paid; refunds of the day against the account the
    money went back through. One row per source record and posting role, signed debit-positive. -#}
with

orders as (

    -- a voided order sold nothing
    select * from {{ ref('orders') }}
    where financial_status <> 'voided'

),

payments as (

    select * from {{ ref('payments') }}
    where event_type in ('capture', 'sale', 'refund')
        and order_key is not null

),

channels as (

    select channel_id, provider from {{ ref('sales_channels') }}

),

sales_accounts as (

    select * from {{ ref('gl_sales_map') }}

),

clearing_accounts as (

    select provider, account_code from {{ ref('gl_settlement_map') }}
    where posting_role = 'clearing' and fee_kind is null

),

order_amounts as (

    -- what the order itself books, on its own business date
    {%- for role, amount in [('revenue', '-gross_sales'), ('discounts', 'discount_total'),
                             ('shipping', '-shipping_total'), ('tax', '-tax_total'), ('tips', '-tip_total')] %}
    select order_key, '{{ role }}' as posting_role, cast(null as varchar) as provider,
        'order' as source_type, order_key as source_id, business_date, {{ amount }} as signed_amount
    from orders
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

tenders as (

    -- each capture or sale of the order debits the clearing account of the provider that took the money
    select payments.order_key, 'clearing' as posting_role, payments.provider,
        'payment' as source_type, payments.payment_key as source_id, orders.business_date,
        payments.gross_amount as signed_amount
    from payments
    inner join orders
        on orders.order_key = payments.order_key
    where payments.event_type in ('capture', 'sale')

),

untendered as (

    -- what the customer owes that no payment shows (yet): the channel's own provider's clearing account
    select orders.order_key, 'clearing' as posting_role, channels.provider,
        'order' as source_type, orders.order_key as source_id, orders.business_date,
        orders.order_total + orders.tip_total - coalesce(sum(tenders.signed_amount), 0) as signed_amount
    from orders
    inner join channels
        on channels.channel_id = orders.channel_id
    left join tenders
        on tenders.order_key = orders.order_key
    group by orders.order_key, channels.provider, orders.business_date, orders.order_total, orders.tip_total

),

refunds as (

    -- money given back, on the refund's date, in the journal of the channel that made the sale
    {%- for role, amount in [('refunds', '-payments.gross_amount'), ('clearing', 'payments.gross_amount')] %}
    select payments.order_key, '{{ role }}' as posting_role,
        {% if role == 'clearing' %}payments.provider{% else %}cast(null as varchar){% endif %} as provider,
        'payment' as source_type, payments.payment_key as source_id, payments.business_date,
        {{ amount }} as signed_amount
    from payments
    inner join orders
        on orders.order_key = payments.order_key
    where payments.event_type = 'refund'
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

postings as (

    select * from order_amounts
    union all
    select * from tenders
    union all
    select * from untendered
    union all
    select * from refunds

)

select
    {{ sales_batch_id('orders.legal_entity_id', 'orders.channel_id', 'orders.location_id', 'postings.business_date') }} as batch_id,
    orders.legal_entity_id,
    orders.channel_id,
    orders.location_id,
    postings.business_date,
    postings.posting_role,
    case postings.posting_role
        when 'clearing' then 1 when 'revenue' then 2 when 'discounts' then 3 when 'shipping' then 4
        when 'tax' then 5 when 'tips' then 6 else 7
    end as role_order,
    -- clearing by provider; the rest by role, a row for the channel winning over the default row
    case
        when postings.posting_role = 'clearing' then clearing_accounts.account_code
        else coalesce(for_channel.account_code, for_role.account_code)
    end as account_code,
    postings.source_type,
    postings.source_id,
    orders.correlation_id,
    postings.signed_amount,
    orders.currency

from postings
inner join orders
    on orders.order_key = postings.order_key
left join clearing_accounts
    on clearing_accounts.provider = postings.provider
left join sales_accounts as for_channel
    on for_channel.channel_id = orders.channel_id
    and for_channel.posting_role = postings.posting_role
left join sales_accounts as for_role
    on for_role.channel_id is null
    and for_role.posting_role = postings.posting_role
where postings.signed_amount <> 0
