with

source as (

    select * from {{ source('shopify', 'balance_transactions') }}

),

renamed as (

    select
        {{ id_text('id') }} as balance_transaction_id,
        lower("type") as balance_transaction_type,
        {{ id_text('payout_id') }} as payout_id,
        lower(payout_status) as payout_status,
        upper(currency) as currency,
        -- Signed as Shopify sends them: charges positive, refunds negative, net = amount - fee.
        {{ cast_money('amount') }} as amount,
        {{ cast_money('fee') }} as fee_amount,
        {{ cast_money('net') }} as net_amount,
        {{ id_text('source_id') }} as source_id,
        source_type,
        {{ id_text('source_order_id') }} as order_id,
        {{ id_text('source_order_transaction_id') }} as order_transaction_id,
        processed_at,
        adjustment_reason,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Immutable per id, but its payout_status changes as the payout moves: keep the latest fetch.
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
    balance_transaction_type,
    payout_id,
    payout_status,
    currency,
    amount,
    fee_amount,
    net_amount,
    source_id,
    source_type,
    order_id,
    order_transaction_id,
    processed_at,
    adjustment_reason,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
