-- Cancels unpaid orders and returns their stock.
-- $1 order ids, $2 now.
WITH canceled AS (
   UPDATE orders SET status = 'CANCELED', canceled_at = $2, updated_at = $2
    WHERE id = ANY($1) AND status = 'PENDING_PAYMENT'
   RETURNING id),
returned AS (
   SELECT l.item_id, sum(l.quantity)::int AS quantity
     FROM order_lines l JOIN canceled c ON c.id = l.order_id
    GROUP BY l.item_id)
UPDATE items SET stock = items.stock + returned.quantity, updated_at = $2
  FROM returned WHERE items.id = returned.item_id
