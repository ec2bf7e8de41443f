-- Account lifecycle: dormancy after inactivity (personal data kept apart), deletion of dormant
-- and withdrawn accounts, and the warning mails before each.

-- Personal data of dormant accounts, moved out of `users` until the owner logs in again.
CREATE TABLE dormant_accounts (
    user_id  BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email    TEXT        NOT NULL UNIQUE,
    name     TEXT        NOT NULL,
    phone    TEXT,
    moved_at TIMESTAMPTZ NOT NULL
);

-- Deleted accounts that had orders stay as anonymous rows (the orders are kept for the records).
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMPTZ,
    ADD CONSTRAINT users_deleted_withdrawn CHECK (deleted_at IS NULL OR status = 'WITHDRAWN');
CREATE INDEX users_lifecycle ON users (status, status_changed_at) WHERE status IN ('DORMANT', 'WITHDRAWN') AND deleted_at IS NULL;

-- Warning mails sent, one per (user, kind, the inactivity or status change it is about).
CREATE TABLE account_notices (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT        NOT NULL CHECK (kind IN ('DORMANCY_WARNING', 'DELETION_WARNING')),
    about   TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, kind, about)
);
