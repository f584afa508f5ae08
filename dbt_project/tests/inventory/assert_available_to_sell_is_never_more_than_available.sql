-- A channel never sees more than the locations that fulfil it have available, and never a negative figure.
select 'location' as grain, available_to_sell_id as id, available, available_to_sell
from {{ ref('available_to_sell') }}
where available_to_sell < 0 or available_to_sell > available

union all

select 'network', available_to_sell_by_channel_id, available, available_to_sell
from {{ ref('available_to_sell_by_channel') }}
where available_to_sell < 0 or available_to_sell > available
