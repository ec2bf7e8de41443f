-- A user's secret calendar feed address (what Google or Apple Calendar subscribes to). Only the
-- SHA-256 of its token is kept; a new token replaces the old one, which then finds nothing.
CREATE TABLE calendar_feeds (
    user_id      BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_digest TEXT        NOT NULL UNIQUE CHECK (length(token_digest) = 64),
    created_at   TIMESTAMPTZ NOT NULL
);
