with

source as (

    select * from {{ source('square', 'refunds') }}

),

renamed as (

    select
        id as refund_id,
        payment_id,
        order_id as return_order_id,
        location_id,
        status as refund_status,
        coalesce(unlinked, false) as is_unlinked,
        destination_type,
        external_type,
        external_source,
        external_source_id,
        upper(currency) as currency,
        -- Positive, as Square sends it: the money given back.
        {{ pos_minor_to_money('amount_money', 'currency') }} as amount,
        {{ pos_minor_to_money('processing_fee_money', 'currency') }} as processing_fee_amount,
        reason,
        created_at,
        updated_at,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by refund_id
            order by updated_at desc, extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    refund_id,
    payment_id,
    return_order_id,
    location_id,
    refund_status,
    is_unlinked,
    destination_type,
    external_type,
    external_source,
    external_source_id,
    currency,
    amount,
    processing_fee_amount,
    reason,
    created_at,
    updated_at,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
