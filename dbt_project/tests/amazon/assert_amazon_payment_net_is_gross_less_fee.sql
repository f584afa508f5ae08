-- Every Amazon payment event: net = gross - fee exactly; a fee event moves no gross; a sale is money in and a
-- refund money out.
--
-- Settlements whose report lost a row to the quarantine at load are left out: a sale whose Principal row was
-- quarantined keeps only its fees and promotions, so its gross can be negative for a known cause that is already
-- reported and contained elsewhere. The row itself is in stg_amazon__quarantine (the queue to fix and replay),
-- and the settlement's payout no longer adds up to the report's stated total, so the matcher raises a
-- payout_total_mismatch exception in reconciliation_exceptions and holds that payout's posting batch. Failing
-- here instead would block the posting gate, and with it every day's ERP export, for one bad vendor row.
with

-- The quarantine knows the file a bad row came in, not its settlement (the row did not parse): the report's
-- rows that did parse, landed in the same file, name it.
incomplete_settlements as (

    select distinct {{ id_text('report_rows.settlement_id') }} as settlement_id
    from {{ source('amazon', 'settlement_report_rows') }} as report_rows
    where exists (
        select 1 from {{ ref('stg_amazon__quarantine') }} as quarantined
        where quarantined.stream = 'settlement_report_rows'
            and quarantined.landed_file = report_rows._landed_file
    )

),

payments as (

    select
        *,
        -- Every Amazon payment id starts with its settlement id (<settlement_id>:...), the payout's too.
        split_part(payment_id, ':', 1) as settlement_id

    from {{ ref('int_amazon__payments') }}

)

select
    payment_id,
    event_type,
    gross_amount,
    fee_amount,
    net_amount

from payments
where net_amount <> gross_amount - fee_amount
    or (event_type = 'fee' and gross_amount <> 0)
    or (
        (
            (event_type = 'sale' and gross_amount < 0)
            or (event_type = 'refund' and gross_amount > 0)
        )
        -- only the signs depend on the report being whole: net = gross - fee holds for every event
        and not exists (
            select 1 from incomplete_settlements
            where incomplete_settlements.settlement_id = payments.settlement_id
        )
    )
