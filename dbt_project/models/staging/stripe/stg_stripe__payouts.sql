with

source as (

    select * from {{ source('stripe', 'payouts') }}

),

renamed as (

    select
        id as payout_id,
        lower(status) as payout_status,
        lower("type") as payout_type,
        lower(method) as payout_method,
        automatic as is_automatic,
        upper(currency) as currency,
        -- Positive: what leaves the Stripe balance for the bank (the stated deposit).
        {{ stripe_to_major('amount', 'currency') }} as amount,
        created as created_at,
        -- Stripe sends the arrival date as 00:00 UTC of that date: it is a date, not an instant.
        {{ local_date('arrival_date', "'UTC'") }} as arrival_date,
        balance_transaction as balance_transaction_id,
        failure_balance_transaction as failure_balance_transaction_id,
        failure_code,
        failure_message,
        destination as destination_id,
        original_payout as original_payout_id,
        reversed_by as reversed_by_payout_id,
        lower(reconciliation_status) as reconciliation_status,
        source_type,
        description,
        statement_descriptor,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- A payout moves pending -> in_transit -> paid (or failed, canceled): the latest fetch wins.
    select
        *,
        row_number() over (
            partition by payout_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    payout_id,
    payout_status,
    payout_type,
    payout_method,
    is_automatic,
    currency,
    amount,
    created_at,
    arrival_date,
    balance_transaction_id,
    failure_balance_transaction_id,
    failure_code,
    failure_message,
    destination_id,
    original_payout_id,
    reversed_by_payout_id,
    reconciliation_status,
    source_type,
    description,
    statement_descriptor,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
