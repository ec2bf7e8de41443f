-- Takes a key when it is new, expired, or its earlier attempt's lease ran out.
-- $1 owner, $2 key, $3 request hash, $4 lease end, $5 now, $6 expiry.
INSERT INTO idempotency_keys (owner, key, request_hash, locked_until, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (owner, key) DO UPDATE
   SET request_hash = EXCLUDED.request_hash, state = 'IN_PROGRESS',
       response_status = NULL, response_headers = NULL, response_body = NULL,
       locked_until = EXCLUDED.locked_until, created_at = EXCLUDED.created_at,
       expires_at = EXCLUDED.expires_at
 WHERE idempotency_keys.expires_at <= EXCLUDED.created_at
    OR (idempotency_keys.state = 'IN_PROGRESS'
        AND idempotency_keys.locked_until <= EXCLUDED.created_at
        AND idempotency_keys.request_hash = EXCLUDED.request_hash)
RETURNING key
