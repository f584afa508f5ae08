-- Available to sell per SKU and channel across the network: the channel's buffer applied once to what every
-- location that may fulfil the channel has available (docs/inventory.md).
with

by_location as (

    select * from {{ ref('available_to_sell') }}

),

rules as (

    select * from {{ ref('ats_channel_rules') }}

),

network as (

    select
        channel_id,
        sku,
        business_date,
        sum(available) as available,
        count(*) as locations,
        bool_and(is_current) as is_current

    from by_location
    group by channel_id, sku, business_date

)

select
    network.channel_id || '|' || network.sku || '|' || cast(network.business_date as varchar)
        as available_to_sell_by_channel_id,
    network.channel_id,
    network.sku,
    network.business_date,
    cast(network.available as integer) as available,
    cast(network.locations as integer) as locations,
    {{ ats_after_buffer('network.available', 'rules.buffer_percent', 'rules.buffer_units') }} as available_to_sell,
    network.is_current,
    rules.publish_to

from network
inner join rules
    on rules.channel_id = network.channel_id
