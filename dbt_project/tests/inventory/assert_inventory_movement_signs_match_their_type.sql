-- A movement's quantity is its signed effect on on-hand: stock coming in is positive, stock going out
-- negative, and no movement is zero. Only stock-count adjustments may go either way.
select
    movement_id,
    movement_type,
    quantity

from {{ ref('inventory_movements') }}
where quantity = 0
    or (movement_type in ('receipt', 'transfer_in', 'return_receipt') and quantity < 0)
    or (movement_type in ('pick', 'ship', 'transfer_out', 'damage') and quantity > 0)
