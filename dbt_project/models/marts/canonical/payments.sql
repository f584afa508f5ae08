-- Every provider's payment events (int_<provider>__payments), keyed across providers, with
-- functional-currency amounts in the legal entity of the channel (or the default entity).
with

payments as (

    {{ union_contributors('payments') }}

),

channels as (

    select channel_id, legal_entity_id from {{ ref('sales_channels') }}

),

entities as (

    select legal_entity_id, functional_currency from {{ ref('legal_entities') }}

),

converted as (

    select
        payments.*,
        entities.legal_entity_id,
        entities.functional_currency,
        {{ fx_rate('rates', 'payments.currency', 'entities.functional_currency', 'payments.business_date') }} as fx_rate

    from payments
    left join channels
        on payments.channel_id = channels.channel_id
    inner join entities
        on entities.legal_entity_id = coalesce(channels.legal_entity_id, '{{ var("default_legal_entity_id") }}')

)

select
    provider || ':' || payment_id as payment_key,
    payment_id,
    provider,
    provider_reference,
    channel_id,
    order_id,
    case when order_id is not null and channel_id is not null then channel_id || ':' || order_id end as order_key,
    event_type,
    tender_type,
    gross_amount,
    fee_amount,
    net_amount,
    currency,
    occurred_at,
    business_date,
    legal_entity_id,
    functional_currency,
    fx_rate,
    {{ as_money(times_rate('gross_amount', 'fx_rate')) }} as gross_amount_functional,
    {{ as_money(times_rate('net_amount', 'fx_rate')) }} as net_amount_functional,
    correlation_id

from converted
