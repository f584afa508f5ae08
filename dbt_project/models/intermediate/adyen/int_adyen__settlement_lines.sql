-- Adyen settlement detail rows of the stores' merchant account as settlement lines (contract: marts/finance
-- settlement_lines). The MerchantPayout row is the payout itself (int_adyen__payouts), not a line it settles.
-- Each batch is paid out by its own MerchantPayout, so the batch names the payout.
-- A Refunded or Chargeback row carries the PSP reference of the payment it reverses, which is the
-- provider_reference marts.payments gives the stores' card refunds too; the line type tells them apart.
with

settlement_details as (

    select * from {{ ref('stg_adyen__settlement_details') }}
    where record_type <> 'MerchantPayout'

),

classified as (

    select
        *,
        case record_type
            when 'Settled' then 'sale'
            when 'Refunded' then 'refund'
            when 'Chargeback' then 'chargeback'
            when 'SecondChargeback' then 'chargeback'
            when 'ChargebackReversed' then 'chargeback_reversal'
            when 'Fee' then 'fee'
            when 'MiscCosts' then 'fee'
            when 'InvoiceDeduction' then 'fee'
            -- types Adyen has more of: kept, posted as adjustments, queued for a person to classify
            else 'other'
        end as line_type,
        -- Interchange++: Adyen's commission and markup, the schemes' fees and the issuer's interchange.
        coalesce(commission_amount, 0) + coalesce(markup_amount, 0) + coalesce(scheme_fee_amount, 0)
            + coalesce(interchange_amount, 0) as transaction_fee_amount

    from settlement_details

),

amounts as (

    select
        *,
        case
            -- A row without a gross (a fee charged to the account) is all fee: what it takes from the payout.
            when gross_amount is null then -coalesce(net_amount, 0)
            else transaction_fee_amount
        end as fee_amount_charged

    from classified

)

select
    cast(settlement_line_id as varchar) as settlement_line_id,
    cast('adyen' as varchar) as provider,
    cast(merchant_account || ' batch ' || cast(batch_number as varchar) as varchar) as payout_id,
    line_type,
    case
        when fee_amount_charged = 0 then null
        when line_type in ('chargeback', 'chargeback_reversal') then 'chargeback_fee'
        when line_type in ('sale', 'refund') then 'processing'
        else 'other'
    end as fee_kind,
    cast(merchant_order_reference as varchar) as order_reference,
    cast(psp_reference as varchar) as payment_reference,
    {{ as_money('coalesce(gross_amount, 0)') }} as gross_amount,
    {{ as_money('fee_amount_charged') }} as fee_amount,
    -- Recomputed rather than taking the stated net, so lines and journals agree by construction; a row whose
    -- fees do not explain its net shows as a payout whose lines differ from the MerchantPayout.
    {{ as_money('coalesce(gross_amount, 0) - fee_amount_charged') }} as net_amount,
    coalesce(net_currency, gross_currency) as currency,
    -- When Adyen booked the row into its batch (the 2016 layout has only the creation date).
    coalesce(booked_at, created_at) as posted_at,
    case when merchant_order_reference is not null then 'pos:order:' || merchant_order_reference end
        as correlation_id

from amounts
