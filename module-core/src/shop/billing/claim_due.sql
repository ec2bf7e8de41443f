-- Records an IN_FLIGHT charge for each due subscription of the next chunk, one per sid.
-- $1 business date, $2 now, $3 chunk, $4 lease end, $5/$6 (billing date, id) to start after.
WITH due AS (
   SELECT s.id, s.sid FROM subscriptions s JOIN users u ON u.id = s.user_id
    WHERE s.status = 'ACTIVE' AND s.next_billing_date <= $1
      -- Never charge anyone whose account is not active, whatever the subscription
      -- says (withdrawal and deletion cancel them too; this is the second lock).
      AND u.status = 'ACTIVE' AND u.deleted_at IS NULL
      AND (s.next_billing_date, s.id) > ($5, $6)
      AND (s.retry_at IS NULL OR s.retry_at <= $2)
      AND NOT EXISTS (SELECT 1 FROM subscription_charges c
                       WHERE c.sid = s.sid AND c.status = 'IN_FLIGHT')
    ORDER BY s.next_billing_date, s.id
    LIMIT $3
    FOR UPDATE OF s SKIP LOCKED),
one_per_sid AS (SELECT DISTINCT ON (sid) id FROM due ORDER BY sid, id),
claimed AS (
   INSERT INTO subscription_charges AS c
          (subscription_id, cycle_date, sid, amount, quantity, status, attempts, lease_until,
           created_at, updated_at)
   SELECT s.id, s.next_billing_date, s.sid, i.sale_price * s.quantity, s.quantity, 'IN_FLIGHT',
          1, $4, $2, $2
     FROM one_per_sid d JOIN subscriptions s ON s.id = d.id
     JOIN items i ON i.id = s.item_id
   ON CONFLICT (subscription_id, cycle_date) DO UPDATE
      SET status = 'IN_FLIGHT', attempts = c.attempts + 1,
          lease_until = EXCLUDED.lease_until, amount = EXCLUDED.amount,
          quantity = EXCLUDED.quantity,
          last_error = NULL, updated_at = EXCLUDED.updated_at
    WHERE c.status = 'RETRY'
   RETURNING c.id, c.subscription_id, c.cycle_date, c.sid, c.amount, c.quantity, c.attempts)
SELECT c.id AS charge_id, c.subscription_id, c.cycle_date, c.sid, c.amount, c.attempts,
       s.user_id, c.quantity, s.failed_attempts, s.sid_approved_at, i.name AS item_name
  FROM claimed c JOIN subscriptions s ON s.id = c.subscription_id
  JOIN items i ON i.id = s.item_id
