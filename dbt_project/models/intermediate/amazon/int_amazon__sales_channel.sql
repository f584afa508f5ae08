-- The Amazon sales channel (seeds/sales_channels.csv) with the legal entity whose time zone defines its
-- business dates. Exactly one row (tested), so joining it never fans out.
select
    channels.channel_id,
    channels.provider,
    channels.legal_entity_id,
    entities.time_zone,
    entities.functional_currency

from {{ ref('sales_channels') }} as channels
inner join {{ ref('legal_entities') }} as entities
    on channels.legal_entity_id = entities.legal_entity_id
where channels.channel_id = '{{ var("amazon_channel_id", "amazon") }}'
