-- Webhook events are a FRESHNESS signal (something changed at the vendor, and roughly when); the API
-- pulls and dropped files are the record. Nothing downstream counts money from this model.
with

source as (

    select * from {{ source('webhooks', 'events') }}

),

renamed as (

    select
        -- A vendor never reuses an event id: together they name the event.
        vendor || ':' || event_id as webhook_event_id,
        lower(vendor) as vendor,
        event_id as vendor_event_id,
        -- The vendor's topic as sent: orders/create (Shopify), charge.refunded (Stripe), CAPTURE (Adyen).
        topic,
        -- The id of the object the event is about: Shopify order or refund id, Stripe data.object id,
        -- Adyen pspReference.
        resource_id,
        account,
        occurred_at,
        received_at,
        -- The vendor's JSON exactly as received (an Adyen batch item on its own), kept as text:
        -- parsing it per vendor and topic belongs to the model that needs a field of it.
        payload,
        _record_hash as record_hash,
        _landed_file as landed_file,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Vendors deliver at least once: the same event id again is the same event. Its first
    -- delivery is kept (the earliest moment omnirecon knew), then the content hash breaks ties.
    select
        *,
        row_number() over (
            partition by webhook_event_id
            order by received_at asc, record_hash asc
        ) as delivery_rank

    from renamed

)

select
    webhook_event_id,
    vendor,
    vendor_event_id,
    topic,
    resource_id,
    account,
    occurred_at,
    received_at,
    payload,
    record_hash,
    landed_file,
    extracted_at

from deduplicated
where delivery_rank = 1
