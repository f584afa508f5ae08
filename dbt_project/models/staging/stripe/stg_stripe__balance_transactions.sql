with

source as (

    select * from {{ source('stripe', 'balance_transactions') }}

),

renamed as (

    select
        id as balance_transaction_id,
        lower("type") as balance_transaction_type,
        lower(reporting_category) as reporting_category,
        lower(status) as balance_transaction_status,
        upper(currency) as currency,
        -- Signed as Stripe sends them (from the balance's side: a charge positive, a refund, a
        -- dispute withdrawal or a payout negative), minor units made major: net = amount - fee.
        {{ stripe_to_major('amount', 'currency') }} as amount,
        {{ stripe_to_major('fee', 'currency') }} as fee_amount,
        {{ stripe_to_major('net', 'currency') }} as net_amount,
        -- Exact decimal text as Stripe sent it (null unless the charge was converted).
        exchange_rate,
        -- The object that caused it: a charge (ch_), refund (re_), dispute (dp_), payout (po_) ...
        "source" as source_id,
        payout_id,
        description,
        created as created_at,
        available_on,
        balance_type,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Immutable but for its status (pending -> available): the latest fetch wins. The payout link
    -- comes only from pages listed by payout, so it is kept from whichever version carries it.
    select
        *,
        max(payout_id) over (partition by balance_transaction_id) as settled_by_payout_id,
        row_number() over (
            partition by balance_transaction_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    balance_transaction_id,
    balance_transaction_type,
    reporting_category,
    balance_transaction_status,
    currency,
    amount,
    fee_amount,
    net_amount,
    exchange_rate,
    source_id,
    settled_by_payout_id as payout_id,
    description,
    created_at,
    available_on,
    balance_type,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
