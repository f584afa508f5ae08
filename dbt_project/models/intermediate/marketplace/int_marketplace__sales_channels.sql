-- Every marketplace that sent settlement lines, as its sales channel ('marketplace_' || marketplace,
-- seeds/sales_channels.csv) with the legal entity whose time zone dates its business. A marketplace not
-- (yet) in the seed still gets a row, under var default_legal_entity_id, so none of its lines is lost.
with

marketplaces as (

    select distinct channel_id, marketplace
    from {{ ref('stg_marketplace__settlement_lines') }}

)

select
    marketplaces.channel_id,
    marketplaces.marketplace,
    coalesce(channels.legal_entity_id, '{{ var("default_legal_entity_id") }}') as legal_entity_id,
    entities.time_zone,
    entities.functional_currency

from marketplaces
left join {{ ref('sales_channels') }} as channels
    on marketplaces.channel_id = channels.channel_id
left join {{ ref('legal_entities') }} as entities
    on coalesce(channels.legal_entity_id, '{{ var("default_legal_entity_id") }}') = entities.legal_entity_id
