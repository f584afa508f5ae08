-- Adyen payouts of the stores' merchant account (contract: marts/finance payouts): each batch's
-- MerchantPayout row, whose net debit is what Adyen transfers to the bank.
-- A batch closes in the merchant account's time zone (that of the legal entity whose channel Adyen serves),
-- and Adyen's daily payout reaches the bank the next day: the deposit's value date.
with

merchant_payouts as (

    select * from {{ ref('stg_adyen__settlement_details') }}
    where record_type = 'MerchantPayout'

),

merchant_accounts as (

    select
        merchant_payouts.*,
        (
            select legal_entities.time_zone
            from {{ ref('sales_channels') }} as sales_channels
            inner join {{ ref('legal_entities') }} as legal_entities
                on sales_channels.legal_entity_id = legal_entities.legal_entity_id
            where sales_channels.provider = 'adyen'
        ) as time_zone

    from merchant_payouts

)

select
    cast('adyen' as varchar) as provider,
    cast(merchant_account || ' batch ' || cast(batch_number as varchar) as varchar) as payout_id,
    -- The report is written once the batch is paid out.
    cast('paid' as varchar) as payout_status,
    cast({{ local_date('coalesce(booked_at, created_at)', 'time_zone') }} + 1 as date) as payout_date,
    {{ as_money('-net_amount') }} as stated_amount,
    net_currency as currency

from merchant_accounts
