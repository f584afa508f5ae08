-- Square locations as the world's stores: the store code (ST-NYC...) that is the canonical location_id,
-- the store's time zone (its business date) and the POS channel's legal entity.
with

locations as (

    select * from {{ ref('stg_square__locations') }}

),

sales_channels as (

    select * from {{ ref('sales_channels') }}

)

select
    locations.location_id as square_location_id,
    locations.store_code as location_id,
    locations.time_zone,
    sales_channels.channel_id,
    sales_channels.legal_entity_id

from locations
inner join sales_channels
    on sales_channels.channel_id = 'pos'
