-- Web Push: a member's devices (a browser's push subscription each, RFC 8030/8291) and the
-- pushes waiting for them.
CREATE TABLE push_subscriptions (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The push service's URL for this browser: one subscription per browser, whoever
    -- subscribed it last (a shared browser signed in as another member moves it).
    endpoint    TEXT        NOT NULL UNIQUE CHECK (length(endpoint) BETWEEN 1 AND 2048),
    -- The browser's P-256 public key (65 bytes) and auth secret (16 bytes), base64url.
    p256dh      TEXT        NOT NULL CHECK (p256dh ~ '^[A-Za-z0-9_-]{87}$'),
    auth        TEXT        NOT NULL CHECK (auth ~ '^[A-Za-z0-9_-]{22}$'),
    user_agent  TEXT        CHECK (length(user_agent) <= 300),
    -- The session (`sid` of the access token) that subscribed: its logout removes it.
    session_id  TEXT        NOT NULL CHECK (length(session_id) BETWEEN 1 AND 100),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, session_id);

-- One push of one notification to one subscription. `(subscription_id, dedupe_key)` is unique
-- (the notification's cause), so a redelivered outbox event queues nothing twice. What it
-- shows is copied from the in-app notification (its kind is not checked here: the
-- notification's own CHECK did that).
CREATE TABLE push_deliveries (
    id              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id BIGINT      NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    dedupe_key      TEXT        NOT NULL,
    -- The stored notification it shows (none when the member keeps this kind out of the app);
    -- no foreign key: notifications are purged on their own schedule.
    notification_id BIGINT,
    kind            TEXT        NOT NULL,
    title           TEXT        NOT NULL,
    body            TEXT        NOT NULL,
    data            JSONB       NOT NULL,
    status          TEXT        NOT NULL DEFAULT 'PENDING'
                                CHECK (status IN ('PENDING', 'SENT', 'GAVE_UP')),
    attempts        INT         NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    UNIQUE (subscription_id, dedupe_key),
    CHECK ((status = 'SENT') = (sent_at IS NOT NULL))
);
-- The sender's queue.
CREATE INDEX push_deliveries_due ON push_deliveries (next_attempt_at) WHERE status = 'PENDING';
