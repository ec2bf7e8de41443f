-- Sales counts and stock of the renewed items. A renewal is delivered whatever the stock, so
-- each line takes what stock is left, up to its quantity, lines of one item in id order; the
-- line keeps how much (`stock_taken`), so that a refund gives back what was taken, no more.
-- $1 settled charge ids, $2 now.
WITH wanted AS (
  SELECT l.id AS line_id, l.item_id, l.quantity,
         sum(l.quantity) OVER (PARTITION BY l.item_id ORDER BY l.id) - l.quantity AS before
    FROM subscription_charges c
    JOIN order_lines l ON l.order_id = c.order_id
   WHERE c.id = ANY($1)),
stocked AS (
  SELECT i.id, i.stock FROM items i
   WHERE i.id IN (SELECT item_id FROM wanted)
   ORDER BY i.id
     -- Not FOR UPDATE: the lines inserted earlier in this transaction hold KEY SHARE on these
     -- rows, as a concurrent run's do, and FOR UPDATE would wait on each other's.
     FOR NO KEY UPDATE),
taken AS (
  SELECT w.line_id, w.item_id, w.quantity,
         GREATEST(LEAST(w.quantity, s.stock - w.before), 0)::int AS taken
    FROM wanted w JOIN stocked s ON s.id = w.item_id),
kept AS (
  UPDATE order_lines l SET stock_taken = t.taken
    FROM taken t
   WHERE l.id = t.line_id)
UPDATE items i SET sales_count = i.sales_count + q.quantity,
                  stock = i.stock - q.taken, updated_at = $2
  FROM (SELECT item_id, sum(quantity)::int AS quantity, sum(taken)::int AS taken
          FROM taken GROUP BY item_id) q
 WHERE i.id = q.item_id
