-- The channel Shopify's orders and payments belong to, with the legal entity whose time zone
-- defines their business dates. Exactly one row (tested), so joining it never fans out.
select
    channels.channel_id,
    channels.source,
    channels.provider,
    channels.legal_entity_id,
    entities.time_zone,
    entities.functional_currency

from {{ ref('sales_channels') }} as channels
inner join {{ ref('legal_entities') }} as entities
    on channels.legal_entity_id = entities.legal_entity_id
where channels.channel_id = '{{ var("shopify_channel_id") }}'
