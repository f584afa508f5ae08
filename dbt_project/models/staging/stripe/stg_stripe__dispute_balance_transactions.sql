with

source as (

    select * from {{ source('stripe', 'dispute_balance_transactions') }}

),

renamed as (

    select
        balance_transaction_id,
        dispute_id,
        lower("type") as balance_transaction_type,
        upper(currency) as currency,
        -- Signed from the balance's side: the withdrawal negative, a won dispute's reinstatement positive.
        {{ stripe_to_major('amount', 'currency') }} as amount,
        {{ stripe_to_major('fee', 'currency') }} as fee_amount,
        {{ stripe_to_major('net', 'currency') }} as net_amount,
        created as created_at,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Embedded in every fetch of its dispute: the latest fetch wins.
    select
        *,
        row_number() over (
            partition by balance_transaction_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    balance_transaction_id,
    dispute_id,
    balance_transaction_type,
    currency,
    amount,
    fee_amount,
    net_amount,
    created_at,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
