-- Takes over IN_FLIGHT charges whose lease passed.
-- $1 now, $2 chunk, $3 new lease end.
WITH stale AS (
   SELECT c.id FROM subscription_charges c
    WHERE c.status = 'IN_FLIGHT' AND c.lease_until <= $1
    ORDER BY c.id LIMIT $2
    FOR UPDATE SKIP LOCKED),
taken AS (
   UPDATE subscription_charges c SET lease_until = $3, updated_at = $1
     FROM stale WHERE c.id = stale.id
   RETURNING c.id, c.subscription_id, c.cycle_date, c.sid, c.amount, c.quantity, c.attempts)
SELECT c.id AS charge_id, c.subscription_id, c.cycle_date, c.sid, c.amount, c.attempts,
       s.user_id, COALESCE(c.quantity, s.quantity) AS quantity, s.failed_attempts, s.sid_approved_at, i.name AS item_name
  FROM taken c JOIN subscriptions s ON s.id = c.subscription_id
  JOIN items i ON i.id = s.item_id
