with

source as (

    select * from {{ source('stripe', 'refunds') }}

),

renamed as (

    select
        id as refund_id,
        lower(status) as refund_status,
        lower(reason) as refund_reason,
        upper(currency) as currency,
        -- Positive, as Stripe sends it; the canonical payments sign it.
        {{ stripe_to_major('amount', 'currency') }} as amount,
        created as created_at,
        charge as charge_id,
        payment_intent as payment_intent_id,
        balance_transaction as balance_transaction_id,
        failure_balance_transaction as failure_balance_transaction_id,
        failure_reason,
        {{ stripe_metadata_value('metadata', 'order_id') }} as order_id,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- A refund moves pending -> succeeded (or failed, canceled): the latest fetch wins.
    select
        *,
        row_number() over (
            partition by refund_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    refund_id,
    refund_status,
    refund_reason,
    currency,
    amount,
    created_at,
    charge_id,
    payment_intent_id,
    balance_transaction_id,
    failure_balance_transaction_id,
    failure_reason,
    order_id,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
