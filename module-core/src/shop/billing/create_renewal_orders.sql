-- One PAID order (and its line) per settled charge, delivered where the subscriber chose (or
-- where the first order went), of the quantity the charge was claimed for.
-- $1 settled charge ids, $2 now.
WITH new_orders AS (
   INSERT INTO orders (user_id, status, total_price, recipient, phone, zip_code, address1,
                       address2, payment_expires_at, created_at, updated_at, paid_at,
                       subscription_id, billing_cycle)
   SELECT s.user_id, 'PAID', c.amount, COALESCE(s.recipient, o.recipient),
          COALESCE(s.phone, o.phone), COALESCE(s.zip_code, o.zip_code),
          COALESCE(s.address1, o.address1), COALESCE(s.address2, o.address2), $2, $2, $2, $2, s.id, c.cycle_date
     FROM subscription_charges c JOIN subscriptions s ON s.id = c.subscription_id
     JOIN orders o ON o.id = s.first_order_id
    WHERE c.id = ANY($1)
   RETURNING id, user_id, subscription_id, billing_cycle),
lines AS (
   INSERT INTO order_lines (order_id, item_id, item_name, unit_price, quantity,
                            subscription_period_days, line_total)
   SELECT n.id, s.item_id, i.name, c.amount / COALESCE(c.quantity, s.quantity),
          COALESCE(c.quantity, s.quantity), s.period_days, c.amount
     FROM new_orders n JOIN subscriptions s ON s.id = n.subscription_id
     JOIN items i ON i.id = s.item_id
     JOIN subscription_charges c
       ON c.subscription_id = n.subscription_id AND c.cycle_date = n.billing_cycle)
UPDATE subscription_charges c SET order_id = n.id
  FROM new_orders n
 WHERE c.subscription_id = n.subscription_id AND c.cycle_date = n.billing_cycle
RETURNING n.id AS order_id, n.user_id
