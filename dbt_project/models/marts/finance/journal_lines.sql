{#- Every journal summarised: one line per batch, posting role, GL account and currency (not per order,
    payment, fee or movement), zero lines omitted. Sales journals (entity, channel, location, business
    date), settlement journals (one per payout and month) and COGS journals (entity, location, business
    date). Each line's sources are in journal_line_sources.

    Amounts are in the transaction currency, and in the legal entity's functional currency at the seed
    rate of the posting date (seeds/fx_rates), rounded to the cent per line; the cents that rounding leaves
    in a balanced batch go to its largest line, so the batch balances in both currencies. -#}
with

settlement as (

    select
        batch_id,
        legal_entity_id,
        posting_date,
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
            when 'roll_forward' then 'Payout ' || payout_id || ' in transit across the month end'
            else 'Provider adjustments in payout ' || payout_id
        end as description

    from {{ ref('int_finance__settlement_postings') }}

),

sales as (

    select
        batch_id,
        legal_entity_id,
        business_date as posting_date,
        posting_role,
        role_order,
        account_code,
        currency,
        signed_amount,
        case posting_role
            when 'clearing' then 'Paid and refunded through the provider'
            when 'revenue' then 'Product sales'
            when 'discounts' then 'Discounts given'
            when 'shipping' then 'Shipping charged'
            when 'tax' then 'Sales tax collected'
            when 'tips' then 'Tips for staff'
            else 'Refunds and returns'
        end || ', ' || channel_id || ' ' || coalesce(location_id, '') || ' ' || cast(business_date as varchar)
            as description

    from {{ ref('int_finance__sales_postings') }}

),

cogs as (

    select
        batch_id,
        legal_entity_id,
        business_date as posting_date,
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
    select * from sales
    union all
    select * from cogs

),

summarised as (

    select
        batch_id,
        posting_role,
        account_code,
        currency,
        min(legal_entity_id) as legal_entity_id,
        min(posting_date) as posting_date,
        min(role_order) as role_order,
        min(description) as description,
        sum(signed_amount) as signed_amount

    from postings
    group by batch_id, posting_role, account_code, currency
    having sum(signed_amount) <> 0

),

converted as (

    select
        summarised.*,
        entities.functional_currency,
        {{ fx_rate('rates', 'summarised.currency', 'entities.functional_currency', 'summarised.posting_date') }} as fx_rate

    from summarised
    inner join {{ ref('legal_entities') }} as entities
        on entities.legal_entity_id = summarised.legal_entity_id

),

rounded as (

    select
        *,
        round({{ times_rate('signed_amount', 'fx_rate') }}, 2) as functional_signed_amount,
        row_number() over (partition by batch_id order by role_order, account_code) as line_number,
        row_number() over (partition by batch_id order by abs(signed_amount) desc, role_order, account_code) as size_rank

    from converted

),

batch_rounding as (

    -- only a batch that balances in its own currency has rounding to place
    select batch_id, sum(functional_signed_amount) as rounding_difference
    from rounded
    group by batch_id
    having sum(signed_amount) = 0

),

lines as (

    select
        rounded.*,
        rounded.functional_signed_amount
            - case when rounded.size_rank = 1 then coalesce(batch_rounding.rounding_difference, 0) else 0 end
            as functional_amount

    from rounded
    left join batch_rounding
        on batch_rounding.batch_id = rounded.batch_id

)

select
    {{ hash_id(['batch_id', 'account_code', 'posting_role']) }} as journal_line_id,
    batch_id,
    cast(line_number as integer) as line_number,
    posting_role,
    account_code,
    description,
    -- A signed amount books positive to debit and negative to credit; both columns stay >= 0.
    {{ as_money('case when signed_amount > 0 then signed_amount else 0 end') }} as debit_amount,
    {{ as_money('case when signed_amount < 0 then -signed_amount else 0 end') }} as credit_amount,
    currency,
    functional_currency,
    fx_rate,
    {{ as_money('case when functional_amount > 0 then functional_amount else 0 end') }} as functional_debit_amount,
    {{ as_money('case when functional_amount < 0 then -functional_amount else 0 end') }} as functional_credit_amount

from lines
