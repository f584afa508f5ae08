with

source as (

    select * from {{ source('square', 'z_reports') }}

),

renamed as (

    select
        report_line_id,
        line_number,
        store_code,
        location_id,
        register_id,
        business_date,
        z_number,
        time_zone,
        opened_at,
        closed_at,
        upper(currency) as currency,
        section,
        line_name,
        count as line_count,
        -- Z reports carry plain decimals in major units (not Square minor units).
        {{ as_money('amount') }} as amount,
        _record_hash as record_hash,
        _landed_file as landed_file,
        _extracted_at as extracted_at

    from source

),

deduplicated as (

    select
        *,
        -- A report re-exported for the same register-day replaces the earlier one, line by line.
        row_number() over (
            partition by report_line_id
            order by extracted_at desc, landed_file desc, record_hash desc
        ) as version_rank

    from renamed

)

select
    report_line_id,
    line_number,
    store_code,
    location_id,
    register_id,
    business_date,
    z_number,
    time_zone,
    opened_at,
    closed_at,
    currency,
    section,
    line_name,
    line_count,
    amount,
    record_hash,
    landed_file

from deduplicated
where version_rank = 1
