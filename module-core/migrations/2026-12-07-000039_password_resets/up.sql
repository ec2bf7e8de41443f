-- Forgotten passwords: a mailed single-use code (only its digest is kept) sets a new one, for
-- 30 minutes, and only while the account has the address the code went to.
CREATE TABLE password_resets (
    token_digest text PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);
CREATE INDEX password_resets_user ON password_resets (user_id);
