with

source as (

    select * from {{ source('bank', 'statement_lines') }}

),

renamed as (

    select
        -- The bank never reuses an entry reference on an account: together they name the entry.
        account_id || ':' || entry_reference as statement_line_id,
        account_id,
        statement_id,
        statement_date,
        line_number,
        entry_reference,
        -- The payer's reference: a PSP deposit carries its payout id here.
        customer_reference,
        booking_date,
        value_date,
        -- Signed from the account holder's side: money in (a credit) positive, money out negative.
        {{ as_money('amount') }} as amount,
        upper(currency) as currency,
        upper(credit_debit) as credit_debit,
        transaction_code,
        -- The statement text ("STRIPE TRANSFER po_...", "AMAZON ... SETTLEMENT ..."): what deposit matching reads.
        description,
        counterparty,
        {{ as_money('running_balance') }} as running_balance,
        {{ as_money('opening_balance') }} as opening_balance,
        {{ as_money('closing_balance') }} as closing_balance,
        statement_ties_out,
        file_format,
        _record_hash as record_hash,
        _landed_file as landed_file,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- A statement delivered again (another format, a corrected export) repeats its entries: the latest wins.
    select
        *,
        row_number() over (
            partition by statement_line_id
            order by extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    statement_line_id,
    account_id,
    statement_id,
    statement_date,
    line_number,
    entry_reference,
    customer_reference,
    booking_date,
    value_date,
    amount,
    currency,
    credit_debit,
    transaction_code,
    description,
    counterparty,
    running_balance,
    opening_balance,
    closing_balance,
    statement_ties_out,
    file_format,
    record_hash,
    landed_file,
    extracted_at

from deduplicated
where version_rank = 1
