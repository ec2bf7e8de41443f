-- Accounts, their delivery addresses and roles.

CREATE TABLE users (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Stored lower-cased; unique among accounts that are not withdrawn (see index below).
    email             TEXT        NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    -- Argon2id PHC string; NULL for accounts that only sign in with Google.
    password_hash     TEXT,
    name              TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    phone             TEXT        CHECK (phone ~ '^[0-9+][0-9-]{7,19}$'),
    role              TEXT        NOT NULL DEFAULT 'USER' CHECK (role IN ('USER', 'ADMIN')),
    status            TEXT        NOT NULL DEFAULT 'ACTIVE'
                                  CHECK (status IN ('ACTIVE', 'DORMANT', 'SUSPENDED', 'WITHDRAWN')),
    google_sub        TEXT        UNIQUE,
    suspended_until   TIMESTAMPTZ,
    suspension_reason TEXT        CHECK (length(suspension_reason) <= 500),
    last_login_at     TIMESTAMPTZ,
    status_changed_at TIMESTAMPTZ NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    CHECK ((status = 'SUSPENDED') = (suspended_until IS NOT NULL AND suspension_reason IS NOT NULL)),
    CHECK (password_hash IS NOT NULL OR google_sub IS NOT NULL OR status = 'WITHDRAWN')
);
CREATE UNIQUE INDEX users_email_unique ON users (email) WHERE status <> 'WITHDRAWN';
CREATE INDEX users_status_id ON users (status, id);

CREATE TABLE user_addresses (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label       TEXT        NOT NULL DEFAULT '' CHECK (length(label) <= 30),
    recipient   TEXT        NOT NULL CHECK (length(recipient) BETWEEN 1 AND 50),
    phone       TEXT        NOT NULL CHECK (phone ~ '^[0-9+][0-9-]{7,19}$'),
    zip_code    TEXT        NOT NULL CHECK (zip_code ~ '^[0-9]{5}$'),
    address1    TEXT        NOT NULL CHECK (length(address1) BETWEEN 1 AND 200),
    address2    TEXT        NOT NULL DEFAULT '' CHECK (length(address2) <= 200),
    is_default  BOOLEAN     NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX user_addresses_user ON user_addresses (user_id, id);
-- At most one default address per user.
CREATE UNIQUE INDEX user_addresses_one_default ON user_addresses (user_id) WHERE is_default;
