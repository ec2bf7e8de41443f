-- The transactional outbox: events are written in the same transaction as the change that
-- causes them, then delivered at least once by the relay.

CREATE TABLE outbox_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT        NOT NULL CHECK (kind ~ '^[A-Z][A-Z0-9_]*$'),
    payload         JSONB       NOT NULL,
    -- FAILED events stopped retrying; an admin may send them back to PENDING.
    status          TEXT        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts        INT         NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ,
    CHECK ((status = 'DELIVERED') = (delivered_at IS NOT NULL)),
    CHECK (status <> 'FAILED' OR last_error IS NOT NULL)
);
CREATE INDEX outbox_events_due ON outbox_events (next_attempt_at, id) WHERE status = 'PENDING';
CREATE INDEX outbox_events_failed ON outbox_events (id DESC) WHERE status = 'FAILED';
