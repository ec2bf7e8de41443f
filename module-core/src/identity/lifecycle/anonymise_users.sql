-- Accounts that must stay for their orders keep only an anonymous row.
-- $1 user ids, $2 now, $3 the name a withdrawn member is shown by (messages.rs).
UPDATE users
  SET status = 'WITHDRAWN', deleted_at = $2,
      email = 'deleted-' || id || '@petory.invalid', name = $3, nickname = NULL, bio = '',
      phone = NULL, password_hash = NULL, google_sub = NULL,
      suspended_until = NULL, suspension_reason = NULL, updated_at = $2
WHERE id = ANY($1)
