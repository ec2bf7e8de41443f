-- Subscriptions, created by the first approved payment of an order with subscription lines.
-- The billing job (next) charges them with the gateway's sid on their billing dates.

CREATE TABLE subscriptions (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           BIGINT      NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    item_id           BIGINT      NOT NULL REFERENCES items (id) ON DELETE RESTRICT,
    first_order_id    BIGINT      NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
    quantity          INT         NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    period_days       SMALLINT    NOT NULL CHECK (period_days IN (30, 60, 90)),
    status            TEXT        NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'PAUSED', 'CANCELED')),
    -- The gateway's subscription id, charged on each cycle.
    sid               TEXT        NOT NULL,
    -- Business date of the first payment: cycles stay anchored on it.
    anchor_date       DATE        NOT NULL,
    next_billing_date DATE        NOT NULL CHECK (next_billing_date > anchor_date),
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    canceled_at       TIMESTAMPTZ,
    CHECK ((status = 'CANCELED') = (canceled_at IS NOT NULL)),
    UNIQUE (first_order_id, item_id)
);
CREATE INDEX subscriptions_user ON subscriptions (user_id, id DESC);
CREATE INDEX subscriptions_item ON subscriptions (item_id);
CREATE INDEX subscriptions_due ON subscriptions (next_billing_date, id) WHERE status = 'ACTIVE';
