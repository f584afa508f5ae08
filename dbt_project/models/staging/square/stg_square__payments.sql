with

source as (

    select * from {{ source('square', 'payments') }}

),

renamed as (

    select
        id as payment_id,
        order_id,
        location_id,
        created_at,
        updated_at,
        status as payment_status,
        source_type,
        upper(currency) as currency,
        -- amount excludes the tip; total = amount + tip is what the customer paid.
        {{ pos_minor_to_money('amount_money', 'currency') }} as amount,
        {{ pos_minor_to_money('coalesce(tip_money, 0)', 'currency') }} as tip_amount,
        {{ pos_minor_to_money('total_money', 'currency') }} as total_amount,
        {{ pos_minor_to_money('app_fee_money', 'currency') }} as app_fee_amount,
        {{ pos_minor_to_money('processing_fee_money', 'currency') }} as processing_fee_amount,
        {{ pos_minor_to_money('coalesce(refunded_money, 0)', 'currency') }} as refunded_amount,
        external_type,
        external_source,
        -- For an EXTERNAL payment, the processor's id: the Adyen PSP reference of the terminal capture.
        external_source_id,
        card_brand,
        {{ pos_minor_to_money('cash_buyer_supplied_money', 'currency') }} as cash_buyer_supplied_amount,
        {{ pos_minor_to_money('cash_change_back_money', 'currency') }} as cash_change_back_amount,
        receipt_number,
        reference_id,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    select
        *,
        -- A payment changes (refunded money grows): the latest update wins, then the latest fetch.
        row_number() over (
            partition by payment_id
            order by updated_at desc, extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    payment_id,
    order_id,
    location_id,
    created_at,
    updated_at,
    payment_status,
    source_type,
    currency,
    amount,
    tip_amount,
    total_amount,
    app_fee_amount,
    processing_fee_amount,
    refunded_amount,
    external_type,
    external_source,
    external_source_id,
    card_brand,
    cash_buyer_supplied_amount,
    cash_change_back_amount,
    receipt_number,
    reference_id,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
