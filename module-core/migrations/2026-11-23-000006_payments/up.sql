-- Payments at the gateway, one per order.

CREATE TABLE payments (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        BIGINT      NOT NULL UNIQUE REFERENCES orders (id) ON DELETE RESTRICT,
    provider        TEXT        NOT NULL DEFAULT 'KAKAOPAY' CHECK (provider IN ('KAKAOPAY')),
    -- The gateway's transaction id of the current attempt.
    tid             TEXT        NOT NULL UNIQUE,
    status          TEXT        NOT NULL CHECK (status IN ('READY', 'APPROVED', 'CANCEL_REQUESTED', 'CANCELED')),
    amount          BIGINT      NOT NULL CHECK (amount > 0),
    is_subscription BOOLEAN     NOT NULL,
    aid             TEXT,
    -- The subscription id a subscription's first approval yields.
    sid             TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    approved_at     TIMESTAMPTZ,
    CHECK ((status = 'READY') = (approved_at IS NULL))
);
