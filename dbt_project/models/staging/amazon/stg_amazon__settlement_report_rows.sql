with

source as (

    select * from {{ source('amazon', 'settlement_report_rows') }}

),

renamed as (

    select
        {{ id_text('settlement_id') }} || ':' || cast(line_number as varchar) as settlement_row_id,
        {{ id_text('settlement_id') }} as settlement_id,
        line_number,
        settlement_start_at,
        settlement_end_at,
        deposit_at,
        {{ as_money('settlement_total_amount') }} as settlement_total_amount,
        transaction_type,
        nullif(trim(order_id), '') as order_id,
        merchant_order_id,
        nullif(trim(adjustment_id), '') as adjustment_id,
        nullif(trim(shipment_id), '') as shipment_id,
        marketplace_name,
        amount_type,
        amount_description,
        fulfillment_id,
        nullif(trim(order_item_code), '') as order_item_id,
        merchant_order_item_id,
        merchant_adjustment_item_id,
        sku,
        promotion_id,
        -- Signed from the seller's side, as the report writes it: money to the seller positive.
        {{ as_money('amount') }} as amount,
        upper(currency) as currency,
        posted_date,
        posted_at,
        quantity_purchased,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Reports are immutable: the same report from the API and from Seller Central is one row per line.
    select
        *,
        row_number() over (
            partition by settlement_row_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    settlement_row_id,
    settlement_id,
    line_number,
    settlement_start_at,
    settlement_end_at,
    deposit_at,
    settlement_total_amount,
    transaction_type,
    order_id,
    merchant_order_id,
    adjustment_id,
    shipment_id,
    marketplace_name,
    amount_type,
    amount_description,
    fulfillment_id,
    order_item_id,
    merchant_order_item_id,
    merchant_adjustment_item_id,
    sku,
    promotion_id,
    amount,
    currency,
    posted_date,
    posted_at,
    quantity_purchased,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
