{#- Every journal summarised: one line per batch, posting role and GL account (not per order, movement or fee),
    zero lines omitted. Settlement journals (one per payout) and COGS journals (one per entity, location and
    business date). Each line's sources are in journal_line_sources. -#}
with

settlement as (

    select
        batch_id,
        posting_role,
        role_order,
        account_code,
        currency,
        signed_amount,
        case posting_role
            when 'bank' then 'Payout ' || payout_id || ' deposited to bank'
            when 'clearing' then 'Sales and refunds settled in payout ' || payout_id
            when 'fees' then 'Fees withheld from payout ' || payout_id
            when 'chargebacks' then 'Chargebacks settled in payout ' || payout_id
            when 'reserves' then 'Reserve held or released in payout ' || payout_id
            else 'Provider adjustments in payout ' || payout_id
        end as description

    from {{ ref('int_finance__settlement_postings') }}

),

cogs as (

    select
        batch_id,
        posting_role,
        role_order,
        account_code,
        currency,
        signed_amount,
        case posting_role
            when 'cogs' then 'Cost of goods sold at ' || location_id || ' on ' || cast(business_date as varchar)
            else 'Inventory shipped or restocked at ' || location_id || ' on ' || cast(business_date as varchar)
        end as description

    from {{ ref('int_finance__cogs_postings') }}

),

postings as (

    select * from settlement
    union all
    select * from cogs

),

summarised as (

    select
        batch_id,
        posting_role,
        account_code,
        currency,
        min(role_order) as role_order,
        min(description) as description,
        sum(signed_amount) as signed_amount

    from postings
    group by batch_id, posting_role, account_code, currency

)

select
    {{ hash_id(['batch_id', 'account_code', 'posting_role']) }} as journal_line_id,
    batch_id,
    cast(row_number() over (partition by batch_id order by role_order, account_code) as integer) as line_number,
    posting_role,
    account_code,
    description,
    -- A signed amount books positive to debit and negative to credit; both columns stay >= 0.
    {{ as_money('case when signed_amount > 0 then signed_amount else 0 end') }} as debit_amount,
    {{ as_money('case when signed_amount < 0 then -signed_amount else 0 end') }} as credit_amount,
    currency

from summarised
where signed_amount <> 0
