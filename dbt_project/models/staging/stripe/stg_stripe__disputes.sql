with

source as (

    select * from {{ source('stripe', 'disputes') }}

),

renamed as (

    select
        id as dispute_id,
        lower(status) as dispute_status,
        lower(reason) as dispute_reason,
        upper(currency) as currency,
        -- Positive: the disputed amount (what the cardholder's bank takes back).
        {{ stripe_to_major('amount', 'currency') }} as amount,
        created as created_at,
        charge as charge_id,
        payment_intent as payment_intent_id,
        is_charge_refundable,
        evidence_due_by,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- A dispute moves needs_response -> under_review -> won or lost: the latest fetch wins.
    select
        *,
        row_number() over (
            partition by dispute_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    dispute_id,
    dispute_status,
    dispute_reason,
    currency,
    amount,
    created_at,
    charge_id,
    payment_intent_id,
    is_charge_refundable,
    evidence_due_by,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
