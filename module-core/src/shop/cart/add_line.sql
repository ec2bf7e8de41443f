-- Adds a cart line while the cart has room; an existing line grows up to the maximum.
-- $1 user, $2 item, $3 quantity, $4 period, $5 now, $6 max quantity, $7 max lines.
INSERT INTO cart_items (user_id, item_id, quantity, subscription_period_days, created_at, updated_at)
SELECT $1, $2, $3, $4, $5, $5
 WHERE (SELECT count(*) FROM cart_items WHERE user_id = $1) < $7
    OR EXISTS (SELECT 1 FROM cart_items WHERE user_id = $1 AND item_id = $2
                  AND coalesce(subscription_period_days, 0) = coalesce($4, 0))
ON CONFLICT (user_id, item_id, coalesce(subscription_period_days, 0)) DO UPDATE
   SET quantity = least($6, cart_items.quantity + EXCLUDED.quantity), updated_at = EXCLUDED.updated_at
