-- Delivers the next chunk of orders shipped before the cutoff that nobody confirmed.
-- $1 now, $2 shipped at or before, $3 chunk.
WITH due AS (
   SELECT id FROM orders
    WHERE status = 'SHIPPING' AND shipped_at <= $2
    ORDER BY shipped_at, id
    LIMIT $3
    FOR UPDATE SKIP LOCKED)
UPDATE orders o SET status = 'DELIVERED', delivered_at = $1, delivered_by = 'AUTO', updated_at = $1
  FROM due WHERE o.id = due.id
RETURNING o.id, o.user_id
