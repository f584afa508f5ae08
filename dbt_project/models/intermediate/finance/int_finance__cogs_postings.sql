{#- What each stock movement contributes to its location's COGS journal of the day, at the ERP item cost:
    goods that left for a customer (ship) debit cost of goods sold and credit inventory; a customer return put
    back on the shelf (return_receipt, not damaged) reverses that. A damaged return stays written off. -#}
with

movements as (

    select * from {{ ref('inventory_movements') }}
    where movement_type = 'ship'
        or (movement_type = 'return_receipt' and reason = 'customer return')

),

items as (

    select sku, unit_cost from {{ ref('stg_erp__items') }}

),

locations as (

    select locations.location_id, locations.legal_entity_id, entities.functional_currency
    from {{ ref('inventory_locations') }} as locations
    inner join {{ ref('legal_entities') }} as entities
        on entities.legal_entity_id = locations.legal_entity_id

),

accounts as (

    select * from {{ ref('gl_inventory_map') }}

),

costed as (

    select
        {{ cogs_batch_id('locations.legal_entity_id', 'movements.location_id', 'movements.business_date') }} as batch_id,
        locations.legal_entity_id,
        movements.location_id,
        movements.business_date,
        movements.movement_id,
        movements.correlation_id,
        -- units out are negative movements: their cost is a positive cost of goods sold
        -movements.quantity * items.unit_cost as cost,
        locations.functional_currency as currency

    from movements
    inner join locations
        on locations.location_id = movements.location_id
    -- an item the ERP does not know has no cost (signed_amount null): its day's batch is held, naming it
    left join items
        on items.sku = movements.sku

),

postings as (

    select *, 'cogs' as posting_role, 1 as role_order, cost as signed_amount from costed
    union all
    select *, 'inventory' as posting_role, 2 as role_order, -cost as signed_amount from costed

)

select
    postings.batch_id,
    postings.legal_entity_id,
    postings.location_id,
    postings.business_date,
    postings.posting_role,
    postings.role_order,
    accounts.account_code,
    'inventory_movement' as source_type,
    postings.movement_id as source_id,
    postings.correlation_id,
    postings.signed_amount,
    postings.currency

from postings
left join accounts
    on accounts.posting_role = postings.posting_role
