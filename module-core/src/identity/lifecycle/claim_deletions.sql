-- Accounts due for deletion whose warning went out, locked for this chunk.
-- $1 deletion cutoff, $2 warning cutoff, $3 chunk.
SELECT u.id FROM users u
WHERE u.status IN ('DORMANT', 'WITHDRAWN') AND u.deleted_at IS NULL
  AND u.status_changed_at <= $1
  AND EXISTS (SELECT 1 FROM account_notices n
               WHERE n.user_id = u.id AND n.kind = 'DELETION_WARNING'
                 AND n.about = u.status_changed_at AND n.sent_at <= $2)
ORDER BY u.id LIMIT $3 FOR UPDATE SKIP LOCKED
