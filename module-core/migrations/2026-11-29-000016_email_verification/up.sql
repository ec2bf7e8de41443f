-- An account owns its email address only once it proved it (a mailed link, or Google's word):
-- Google sign-in links only to verified accounts, and takes an unverified one over.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMPTZ;

-- Links mailed to verify an address: the SHA-256 of the token, never the token.
CREATE TABLE email_verifications (
    token_digest TEXT        PRIMARY KEY,
    user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The address the link was sent to: a link for an old address verifies nothing.
    email        TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL CHECK (expires_at > created_at)
);
CREATE INDEX email_verifications_user ON email_verifications (user_id, created_at DESC);
