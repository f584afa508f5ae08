{#- Settlement journals summarised: one line per payout and posting role (not per order), zero lines
    omitted. Each line's sources are in journal_line_sources. -#}
with

postings as (

    select * from {{ ref('int_finance__settlement_postings') }}

),

settlement_accounts as (

    select * from {{ ref('gl_settlement_map') }}

),

summarised as (

    select
        batch_id,
        provider,
        payout_id,
        posting_role,
        role_order,
        currency,
        sum(signed_amount) as signed_amount

    from postings
    group by batch_id, provider, payout_id, posting_role, role_order, currency

)

select
    {{ hash_id(['summarised.batch_id', 'settlement_accounts.account_code', 'summarised.posting_role']) }} as journal_line_id,
    summarised.batch_id,
    cast(row_number() over (partition by summarised.batch_id order by summarised.role_order) as integer) as line_number,
    summarised.posting_role,
    settlement_accounts.account_code,
    case summarised.posting_role
        when 'bank' then 'Payout ' || summarised.payout_id || ' deposited to bank'
        when 'processing_fees' then 'Processing fees withheld from payout ' || summarised.payout_id
        when 'clearing' then 'Charges and refunds settled in payout ' || summarised.payout_id
        when 'adjustments' then 'Provider adjustments in payout ' || summarised.payout_id
    end as description,
    -- A signed amount books positive to debit and negative to credit; both columns stay >= 0.
    {{ as_money('case when summarised.signed_amount > 0 then summarised.signed_amount else 0 end') }} as debit_amount,
    {{ as_money('case when summarised.signed_amount < 0 then -summarised.signed_amount else 0 end') }} as credit_amount,
    summarised.currency

from summarised
left join settlement_accounts
    on summarised.provider = settlement_accounts.provider
    and summarised.posting_role = settlement_accounts.posting_role
where summarised.signed_amount <> 0
