with

source as (

    select * from {{ source('square', 'order_tenders') }}

),

renamed as (

    select
        id as tender_id,
        order_id,
        order_updated_at,
        location_id,
        type as tender_type,
        payment_id,
        created_at,
        upper(currency) as currency,
        -- Square's tender amount includes the tip on it.
        {{ pos_minor_to_money('amount_money', 'currency') }} as amount,
        {{ pos_minor_to_money('coalesce(tip_money, 0)', 'currency') }} as tip_amount,
        card_brand,
        note,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    {{ children_of_latest_order_version('renamed', 'tender_id', 'stg_square__orders') }}

)

select
    tender_id,
    order_id,
    order_updated_at,
    location_id,
    tender_type,
    payment_id,
    created_at,
    currency,
    amount,
    tip_amount,
    card_brand,
    note,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
