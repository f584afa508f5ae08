-- Conservation: every raw_square / raw_adyen record (by raw's record key, in its latest version) reaches
-- a staging row that reaches a canonical POS row, or is accounted for. Returns the keys that reach
-- neither. (A payload that fails validation never becomes a raw table row: it is in <schema>._quarantine,
-- which stg_square__quarantine / stg_adyen__quarantine expose.) Accounted for without a canonical row:
-- payments and refunds that are not COMPLETED (no money moved), Z report lines (they feed the store-day
-- check, assert_pos_z_reports_equal_the_store_days_tickets) and Adyen settlement lines (they feed
-- settlement matching).
with

latest_orders as (

    select id, max(updated_at) as updated_at
    from {{ source('square', 'orders') }}
    group by id

),

missing as (

    select 'locations' as raw_table, id as record_key
    from {{ source('square', 'locations') }}
    where id not in (select square_location_id from {{ ref('int_pos__store_locations') }})

    union all

    select 'orders', id
    from {{ source('square', 'orders') }}
    where id not in (select order_id from {{ ref('int_pos__orders') }})
        and id not in (select return_id from {{ ref('int_pos__returns') }})

    union all

    select 'order_line_items', raw.order_id || '/' || raw.uid
    from {{ source('square', 'order_line_items') }} as raw
    inner join latest_orders
        on raw.order_id = latest_orders.id and raw.order_updated_at = latest_orders.updated_at
    where raw.order_id || '/' || raw.uid not in (select order_line_id from {{ ref('int_pos__order_lines') }})

    union all

    select 'order_returns', raw.order_id || '/' || raw.uid
    from {{ source('square', 'order_returns') }} as raw
    inner join latest_orders
        on raw.order_id = latest_orders.id and raw.order_updated_at = latest_orders.updated_at
    where raw.order_id || '/' || raw.uid not in (select return_line_id from {{ ref('int_pos__returns') }})

    union all

    -- a tender is its Square payment: it reaches the payments as that payment's sale event
    select 'order_tenders', raw.id
    from {{ source('square', 'order_tenders') }} as raw
    inner join latest_orders
        on raw.order_id = latest_orders.id and raw.order_updated_at = latest_orders.updated_at
    where raw.payment_id not in (select payment_id from {{ ref('int_pos__payments') }})
        and raw.payment_id not in (
            select payment_id from {{ ref('stg_square__payments') }} where payment_status <> 'COMPLETED'
        )

    union all

    select 'payments', id
    from {{ source('square', 'payments') }}
    where id not in (select payment_id from {{ ref('int_pos__payments') }})
        and id not in (select payment_id from {{ ref('stg_square__payments') }} where payment_status <> 'COMPLETED')

    union all

    select 'refunds', id
    from {{ source('square', 'refunds') }}
    where id not in (select payment_id from {{ ref('int_pos__payments') }})
        and id not in (select refund_id from {{ ref('stg_square__refunds') }} where refund_status <> 'COMPLETED')

    union all

    select 'z_reports', report_line_id
    from {{ source('square', 'z_reports') }}
    where report_line_id not in (select report_line_id from {{ ref('stg_square__z_reports') }})

    union all

    select 'adyen.settlement_details',
        merchant_account || '/' || cast(batch_number as varchar) || '/' || cast(line_number as varchar)
    from {{ source('adyen', 'settlement_details') }}
    where merchant_account || '/' || cast(batch_number as varchar) || '/' || cast(line_number as varchar)
        not in (select settlement_line_id from {{ ref('stg_adyen__settlement_details') }})

)

select * from missing
