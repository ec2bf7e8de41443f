-- Accounts about to be removed entirely take all their content with them, so all their
-- uploads are discarded, but shop items' images (an admin's), which the items outlive. The rows
-- outlive the account (ownerless) until the upload job has removed their objects.
-- $1 the removed accounts' ids, $2 now.
UPDATE uploads
   SET discarded_at = $2
 WHERE owner_id = ANY($1)
   AND discarded_at IS NULL
   AND purpose <> 'ITEM'
