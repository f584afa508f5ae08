with

source as (

    select * from {{ source('stripe', 'charges') }}

),

renamed as (

    select
        id as charge_id,
        lower(status) as charge_status,
        upper(currency) as currency,
        {{ stripe_to_major('amount', 'currency') }} as amount,
        {{ stripe_to_major('amount_captured', 'currency') }} as amount_captured,
        {{ stripe_to_major('amount_refunded', 'currency') }} as amount_refunded,
        captured as is_captured,
        paid as is_paid,
        refunded as is_refunded,
        disputed as is_disputed,
        created as created_at,
        balance_transaction as balance_transaction_id,
        failure_balance_transaction as failure_balance_transaction_id,
        failure_code,
        -- Stripe's customer object id (cus_...), not personal data; the charge's email stays in raw.
        customer as customer_id,
        payment_intent as payment_intent_id,
        payment_method as payment_method_id,
        description,
        -- How the web shop links its order to the charge (metadata set at checkout).
        {{ stripe_metadata_value('metadata', 'order_id') }} as order_id,
        {{ stripe_metadata_value('metadata', 'order_name') }} as order_name,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- A charge changes as it is refunded or disputed: the latest fetch wins.
    select
        *,
        row_number() over (
            partition by charge_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    charge_id,
    charge_status,
    currency,
    amount,
    amount_captured,
    amount_refunded,
    is_captured,
    is_paid,
    is_refunded,
    is_disputed,
    created_at,
    balance_transaction_id,
    failure_balance_transaction_id,
    failure_code,
    customer_id,
    payment_intent_id,
    payment_method_id,
    description,
    order_id,
    order_name,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
