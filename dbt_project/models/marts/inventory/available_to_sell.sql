-- Available to sell per SKU, location and channel, for each location that may fulfil the channel
-- (seeds/ats_channel_locations), after the channel's buffer (seeds/ats_channel_rules). Every business date
-- is kept; is_current marks the position that is published.
with

states as (

    select * from {{ ref('inventory_states') }}

),

channel_locations as (

    select * from {{ ref('ats_channel_locations') }}

),

rules as (

    select * from {{ ref('ats_channel_rules') }}

)

select
    channel_locations.channel_id || '|' || states.location_id || '|' || states.sku || '|'
        || cast(states.business_date as varchar) as available_to_sell_id,
    channel_locations.channel_id,
    states.location_id,
    states.sku,
    states.business_date,
    states.available,
    {{ ats_after_buffer('states.available', 'rules.buffer_percent', 'rules.buffer_units') }} as available_to_sell,
    states.is_current,
    rules.publish_to

from states
inner join channel_locations
    on channel_locations.location_id = states.location_id
inner join rules
    on rules.channel_id = channel_locations.channel_id
