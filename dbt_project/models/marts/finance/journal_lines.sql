{#- Settlement journals summarised: one line per batch, account and posting role (not per order or per fee),
    zero lines omitted. Each line's sources are in journal_line_sources. -#}
with

postings as (

    select * from {{ ref('int_finance__settlement_postings') }}

),

summarised as (

    select
        batch_id,
        provider,
        payout_id,
        posting_role,
        account_code,
        min(role_order) as role_order,
        currency,
        sum(signed_amount) as signed_amount

    from postings
    group by batch_id, provider, payout_id, posting_role, account_code, currency

)

select
    {{ hash_id(['batch_id', 'account_code', 'posting_role']) }} as journal_line_id,
    batch_id,
    cast(row_number() over (partition by batch_id order by role_order, account_code) as integer) as line_number,
    posting_role,
    account_code,
    case posting_role
        when 'bank' then 'Payout ' || payout_id || ' deposited to bank'
        when 'clearing' then 'Sales and refunds settled in payout ' || payout_id
        when 'fees' then 'Fees withheld from payout ' || payout_id
        when 'chargebacks' then 'Chargebacks settled in payout ' || payout_id
        when 'reserves' then 'Reserve held or released in payout ' || payout_id
        else 'Provider adjustments in payout ' || payout_id
    end as description,
    -- A signed amount books positive to debit and negative to credit; both columns stay >= 0.
    {{ as_money('case when signed_amount > 0 then signed_amount else 0 end') }} as debit_amount,
    {{ as_money('case when signed_amount < 0 then -signed_amount else 0 end') }} as credit_amount,
    currency

from summarised
where signed_amount <> 0
