with

source as (

    select * from {{ source('square', 'orders') }}

),

renamed as (

    select
        id as order_id,
        location_id,
        reference_id as receipt_number,
        -- PII stays in raw: downstream only needs a stable, non-reversible customer key.
        case when nullif(trim(customer_id), '') is not null then md5(trim(customer_id)) end as customer_key,
        state as order_state,
        version as order_version,
        created_at,
        updated_at,
        closed_at,
        ticket_name,
        source_name,
        upper(currency) as currency,
        {{ pos_minor_to_money('total_money', 'currency') }} as total_amount,
        {{ pos_minor_to_money('total_tax_money', 'currency') }} as tax_amount,
        {{ pos_minor_to_money('total_discount_money', 'currency') }} as discount_amount,
        {{ pos_minor_to_money('total_tip_money', 'currency') }} as tip_amount,
        {{ pos_minor_to_money('return_total_money', 'currency') }} as return_total_amount,
        {{ pos_minor_to_money('return_tax_money', 'currency') }} as return_tax_amount,
        {{ pos_minor_to_money('return_discount_money', 'currency') }} as return_discount_amount,
        {{ pos_minor_to_money('net_total_money', 'currency') }} as net_total_amount,
        returned_channel,
        returned_order_id,
        returned_order_name,
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
    location_id,
    receipt_number,
    customer_key,
    order_state,
    order_version,
    created_at,
    updated_at,
    closed_at,
    ticket_name,
    source_name,
    currency,
    total_amount,
    tax_amount,
    discount_amount,
    tip_amount,
    return_total_amount,
    return_tax_amount,
    return_discount_amount,
    net_total_amount,
    returned_channel,
    returned_order_id,
    returned_order_name,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
