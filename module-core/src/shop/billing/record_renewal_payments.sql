-- The payment rows of the renewal orders.
-- $1 charge ids, $2 aids, $3 now, $4 settled charge ids.
INSERT INTO payments (order_id, tid, status, amount, is_subscription, aid, sid,
                      created_at, updated_at, approved_at)
SELECT c.order_id, c.tid, 'PAID', c.amount, true, u.aid, c.sid, $3, $3, $3
  FROM subscription_charges c
  JOIN unnest($1::bigint[], $2::text[]) AS u(id, aid) ON u.id = c.id
 WHERE c.id = ANY($4) AND c.tid IS NOT NULL
