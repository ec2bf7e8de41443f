-- Which of the accounts being deleted are removed entirely: those no order and no subscription
-- keeps (the others stay as anonymous rows). $1 user ids.
SELECT u.id
  FROM users u
 WHERE u.id = ANY($1)
   AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id)
   AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = u.id)
