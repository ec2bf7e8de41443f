-- Accounts about to be removed entirely (the same test as their deletion: no orders and no
-- subscriptions keep them) take all their content with them, so all their uploads are
-- discarded, but shop items' images (an admin's), which the items outlive. The rows outlive
-- the account (ownerless) until the upload job has removed their objects. $1 user ids, $2 now.
UPDATE uploads u
   SET discarded_at = $2
 WHERE u.owner_id = ANY($1)
   AND u.discarded_at IS NULL
   AND u.purpose <> 'ITEM'
   AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.owner_id)
   AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = u.owner_id)
