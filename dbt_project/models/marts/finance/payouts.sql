{#- Every payout tied out twice: its settlement lines against the total the provider states, and the
    stated total against the deposit on the bank statement (customer reference = payout id, statement
    text naming the provider). A deposit is only missing once it is overdue on the latest statement. -#}
with

payouts as (

    {{ union_contributors('payouts', 'settlement_contributors') }}

),

providers as (

    select * from {{ ref('settlement_providers') }}

),

line_totals as (

    select
        provider,
        payout_id,
        count(*) as line_count,
        sum(net_amount) as lines_net_amount

    from {{ ref('settlement_lines') }}
    where payout_id is not null
    group by provider, payout_id

),

bank_lines as (

    select * from {{ ref('stg_bank__statement_lines') }}

),

deposits as (

    -- A payout's deposit is the first bank line that names it (a re-sent statement is deduplicated upstream).
    select
        payouts.provider,
        payouts.payout_id,
        bank_lines.statement_line_id,
        bank_lines.amount,
        row_number() over (
            partition by payouts.provider, payouts.payout_id
            order by bank_lines.booking_date, bank_lines.statement_line_id
        ) as deposit_rank

    from payouts
    inner join providers
        on payouts.provider = providers.provider
    inner join bank_lines
        on bank_lines.customer_reference = payouts.payout_id
        and bank_lines.currency = payouts.currency
        and upper(bank_lines.description) like '%' || providers.bank_text || '%'

),

latest_statement as (

    select max(statement_date) as statement_date from bank_lines

),

tied as (

    select
        payouts.provider || ':' || payouts.payout_id as payout_key,
        payouts.provider,
        payouts.payout_id,
        payouts.payout_status,
        payouts.payout_date,
        payouts.stated_amount,
        payouts.currency,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.lines_net_amount, 0) as lines_net_amount,
        deposits.statement_line_id as bank_statement_line_id,
        deposits.amount as deposit_amount,
        payouts.payout_date + providers.deposit_within_days <= latest_statement.statement_date as deposit_due

    from payouts
    inner join providers
        on payouts.provider = providers.provider
    cross join latest_statement
    left join line_totals
        on payouts.provider = line_totals.provider
        and payouts.payout_id = line_totals.payout_id
    left join deposits
        on payouts.provider = deposits.provider
        and payouts.payout_id = deposits.payout_id
        and deposits.deposit_rank = 1

)

select
    payout_key,
    provider,
    payout_id,
    payout_status,
    payout_date,
    {{ as_money('stated_amount') }} as stated_amount,
    currency,
    cast(line_count as bigint) as line_count,
    {{ as_money('lines_net_amount') }} as lines_net_amount,
    {{ as_money('stated_amount - lines_net_amount') }} as lines_difference,
    bank_statement_line_id,
    {{ as_money('deposit_amount') }} as deposit_amount,
    {{ as_money('stated_amount - deposit_amount') }} as deposit_difference,
    case
        when deposit_amount is null and deposit_due then 'missing'
        when deposit_amount is null then 'awaiting'
        when deposit_amount <> stated_amount then 'differs'
        else 'received'
    end as deposit_status,
    case
        when stated_amount <> lines_net_amount then 'lines_differ'
        when deposit_amount is not null and deposit_amount <> stated_amount then 'deposit_differs'
        when deposit_amount is not null then 'tied_out'
        when deposit_due then 'deposit_missing'
        else 'awaiting_deposit'
    end as tie_out_status

from tied
