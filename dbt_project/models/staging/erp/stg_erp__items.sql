with

source as (

    select * from {{ source('erp', 'items') }}

),

renamed as (

    select
        sku,
        description as item_description,
        -- The ERP's standard cost of one unit, exact, in cost_currency.
        {{ as_money('unit_cost') }} as unit_cost,
        upper(cost_currency) as cost_currency,
        tax_code,
        barcode,
        active as is_active,
        modified_at,
        _record_hash as record_hash,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    -- Snapshotted on every pull; a changed item is a new row. The ERP's last modification decides,
    -- then the latest fetch.
    select
        *,
        row_number() over (
            partition by sku
            order by modified_at desc nulls last, extracted_at desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    sku,
    item_description,
    unit_cost,
    cost_currency,
    tax_code,
    barcode,
    is_active,
    modified_at,
    record_hash,
    extracted_at

from deduplicated
where version_rank = 1
