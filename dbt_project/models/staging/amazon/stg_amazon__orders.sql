with

source as (

    select * from {{ source('amazon', 'orders') }}

),

renamed as (

    select
        {{ id_text('amazon_order_id') }} as order_id,
        {{ id_text('seller_order_id') }} as seller_order_id,
        -- PII stays in raw: BuyerEmail is a relay address, stable per buyer, so its hash is a customer key.
        case
            when nullif(trim(buyer_email), '') is not null then md5(lower(trim(buyer_email)))
        end as customer_key,
        purchase_date as purchased_at,
        last_update_date as last_updated_at,
        -- Orders API 2026-01-01 spells statuses and fulfillers its own way: one spelling (v0's) from here on.
        case order_status
            when 'PENDING_AVAILABILITY' then 'PendingAvailability'
            when 'PENDING' then 'Pending'
            when 'UNSHIPPED' then 'Unshipped'
            when 'PARTIALLY_SHIPPED' then 'PartiallyShipped'
            when 'SHIPPED' then 'Shipped'
            when 'CANCELLED' then 'Canceled'
            when 'UNFULFILLABLE' then 'Unfulfillable'
            else order_status
        end as order_status,
        case fulfillment_channel
            when 'MERCHANT' then 'MFN'
            when 'AMAZON' then 'AFN'
            else fulfillment_channel
        end as fulfillment_channel,
        sales_channel as marketplace_name,
        marketplace_id,
        order_type,
        {{ as_money('order_total_amount') }} as order_total_amount,
        upper(order_total_currency) as order_total_currency,
        number_of_items_shipped,
        number_of_items_unshipped,
        payment_method,
        ship_service_level,
        is_prime,
        is_business_order,
        -- Region and country only: city, postal code and e-mail stay in raw.
        ship_state_or_region,
        ship_country_code,
        earliest_ship_date as earliest_ship_at,
        latest_ship_date as latest_ship_at,
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
            order by last_updated_at desc, extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    order_id,
    seller_order_id,
    customer_key,
    purchased_at,
    last_updated_at,
    order_status,
    fulfillment_channel,
    marketplace_name,
    marketplace_id,
    order_type,
    order_total_amount,
    order_total_currency,
    number_of_items_shipped,
    number_of_items_unshipped,
    payment_method,
    ship_service_level,
    is_prime,
    is_business_order,
    ship_state_or_region,
    ship_country_code,
    earliest_ship_at,
    latest_ship_at,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
