with

source as (

    select * from {{ source('shopify', 'orders') }}

),

renamed as (

    select
        {{ id_text('id') }} as order_id,
        name as order_name,
        -- PII stays in raw: downstream only needs a stable, non-reversible customer key.
        case
            when nullif(trim(email), '') is not null then md5(lower(trim(email)))
        end as customer_key,
        created_at,
        updated_at,
        processed_at,
        cancelled_at,
        upper(currency) as currency,
        taxes_included as is_tax_inclusive,
        financial_status,
        source_name,
        {{ cast_money('subtotal_price') }} as subtotal_amount,
        {{ cast_money('total_discounts') }} as discount_amount,
        {{ cast_money('total_tax') }} as tax_amount,
        {{ cast_money('total_shipping') }} as shipping_amount,
        {{ cast_money('total_price') }} as total_amount,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    select
        *,
        -- The latest order version wins; a version fetched twice keeps the later fetch.
        row_number() over (
            partition by order_id
            order by updated_at desc, extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    order_id,
    order_name,
    customer_key,
    created_at,
    updated_at,
    processed_at,
    cancelled_at,
    currency,
    is_tax_inclusive,
    financial_status,
    source_name,
    subtotal_amount,
    discount_amount,
    tax_amount,
    shipping_amount,
    total_amount,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
