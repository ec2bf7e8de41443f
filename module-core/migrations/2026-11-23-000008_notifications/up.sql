-- In-app notifications. The database holds every notification; Redis pub/sub only wakes the
-- live streams of the API instances, which then read from here.

ALTER TABLE users ADD COLUMN notify_daily_question BOOLEAN NOT NULL DEFAULT true;

CREATE TABLE notifications (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT        NOT NULL CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
                                'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED')),
    title       TEXT        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body        TEXT        NOT NULL CHECK (length(body) <= 2000),
    -- What the client links to, e.g. {"order_id": 7}.
    data        JSONB       NOT NULL DEFAULT '{}',
    -- What caused the notification ("outbox:42", "daily-question:2026-11-23"): delivering the
    -- same cause twice inserts nothing.
    dedupe_key  TEXT        NOT NULL,
    read_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, dedupe_key)
);
CREATE INDEX notifications_user ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_created ON notifications (created_at);
