with

source as (

    select * from {{ source('marketplace', 'settlement_lines') }}

),

renamed as (

    select
        lower(marketplace) || ':' || {{ id_text('settlement_id') }} || ':' || cast(line_number as varchar)
            as settlement_line_id,
        lower(marketplace) as marketplace,
        'marketplace_' || lower(marketplace) as channel_id,
        {{ id_text('settlement_id') }} as settlement_id,
        line_number,
        nullif(trim(order_id), '') as order_id,
        nullif(trim(sku), '') as sku,
        lower(line_type) as line_type,
        their_line_type,
        quantity,
        -- Signed from the seller's side: a sale positive, a refund or a fee negative.
        {{ as_money('amount') }} as amount,
        -- A fee stated on the line itself (some marketplaces put the commission there), signed the same way.
        {{ as_money('fee') }} as fee_amount,
        upper(currency) as currency,
        posted_date,
        posted_at,
        description,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- A re-sent file of the same settlement repeats its lines at the same line numbers: keep the latest.
    select
        *,
        row_number() over (
            partition by settlement_line_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    settlement_line_id,
    marketplace,
    channel_id,
    settlement_id,
    line_number,
    order_id,
    sku,
    line_type,
    their_line_type,
    quantity,
    amount,
    fee_amount,
    currency,
    posted_date,
    posted_at,
    description,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
