with

source as (

    select * from {{ source('shopify', 'payouts') }}

),

renamed as (

    select
        {{ id_text('id') }} as payout_id,
        lower(status) as payout_status,
        "date" as payout_date,
        upper(currency) as currency,
        -- The provider's stated net deposit: posted as is, never recomputed from the lines.
        {{ cast_money('amount') }} as amount,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- A payout moves scheduled -> in_transit -> paid (or failed): the latest fetch wins.
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
    payout_date,
    currency,
    amount,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
