with

source as (

    select * from {{ source('adyen', 'settlement_details') }}

),

renamed as (

    select
        -- One line of one batch of one merchant account (raw's record key).
        merchant_account || '/' || cast(batch_number as varchar) || '/' || cast(line_number as varchar)
            as settlement_line_id,
        company_account,
        merchant_account,
        cast(batch_number as integer) as batch_number,
        cast(line_number as integer) as line_number,
        record_type,
        psp_reference,
        merchant_reference,
        merchant_order_reference,
        payment_method,
        payment_method_variant,
        modification_reference,
        modification_merchant_reference,
        created_at,
        created_time_zone,
        booked_at,
        booked_time_zone,
        upper(gross_currency) as gross_currency,
        -- Signed as the parser gives them: credit - debit, positive = money to the merchant.
        {{ as_money('gross_amount') }} as gross_amount,
        exchange_rate,
        upper(net_currency) as net_currency,
        {{ as_money('net_amount') }} as net_amount,
        -- Fees as reported, positive = charged to the merchant, in the net currency.
        {{ as_money('commission') }} as commission_amount,
        {{ as_money('markup') }} as markup_amount,
        {{ as_money('scheme_fees') }} as scheme_fee_amount,
        {{ as_money('interchange') }} as interchange_amount,
        {{ as_money('payment_fees') }} as payment_fee_amount,
        {{ as_money('dcc_markup') }} as dcc_markup_amount,
        {{ as_money('gross_fees') }} as gross_fee_amount,
        upper(balance_currency) as balance_currency,
        {{ as_money('net_amount_bc') }} as net_amount_balance_currency,
        dispute_reference,
        settlement_flow,
        funds_destination,
        _record_hash as record_hash,
        _landed_file as landed_file,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    select
        *,
        -- The same batch report landed again keeps its latest landing, line by line.
        row_number() over (
            partition by settlement_line_id
            order by extracted_at desc, landed_file desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    settlement_line_id,
    company_account,
    merchant_account,
    batch_number,
    line_number,
    record_type,
    psp_reference,
    merchant_reference,
    merchant_order_reference,
    payment_method,
    payment_method_variant,
    modification_reference,
    modification_merchant_reference,
    created_at,
    created_time_zone,
    booked_at,
    booked_time_zone,
    gross_currency,
    gross_amount,
    exchange_rate,
    net_currency,
    net_amount,
    commission_amount,
    markup_amount,
    scheme_fee_amount,
    interchange_amount,
    payment_fee_amount,
    dcc_markup_amount,
    gross_fee_amount,
    balance_currency,
    net_amount_balance_currency,
    dispute_reference,
    settlement_flow,
    funds_destination,
    record_hash,
    landed_file

from deduplicated
where version_rank = 1
