-- Sales counts and stock of the renewed items.
-- $1 settled charge ids, $2 now.
UPDATE items i SET sales_count = i.sales_count + q.quantity,
                  stock = GREATEST(i.stock - q.quantity, 0), updated_at = $2
 FROM (SELECT s.item_id, sum(s.quantity)::int AS quantity
         FROM subscription_charges c JOIN subscriptions s ON s.id = c.subscription_id
        WHERE c.id = ANY($1) GROUP BY s.item_id) q
WHERE i.id = q.item_id
