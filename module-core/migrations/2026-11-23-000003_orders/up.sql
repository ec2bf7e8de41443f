-- Orders and their lines. Lines and the delivery address are snapshots: later catalog or
-- address changes do not rewrite history.

CREATE TABLE orders (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Orders outlive accounts (kept for the records), so users are anonymised, never deleted
    -- while they have orders.
    user_id            BIGINT      NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    status             TEXT        NOT NULL DEFAULT 'PENDING_PAYMENT'
                                   CHECK (status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPING', 'DELIVERED', 'CANCELED', 'REFUNDED')),
    total_price        BIGINT      NOT NULL CHECK (total_price >= 0),
    recipient          TEXT        NOT NULL,
    phone              TEXT        NOT NULL,
    zip_code           TEXT        NOT NULL,
    address1           TEXT        NOT NULL,
    address2           TEXT        NOT NULL,
    -- Unpaid orders give their stock back after this.
    payment_expires_at TIMESTAMPTZ NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    paid_at            TIMESTAMPTZ,
    canceled_at        TIMESTAMPTZ,
    CHECK ((status = 'CANCELED') = (canceled_at IS NOT NULL))
);
CREATE INDEX orders_user ON orders (user_id, id DESC);
CREATE INDEX orders_unpaid_expiry ON orders (payment_expires_at) WHERE status = 'PENDING_PAYMENT';

CREATE TABLE order_lines (
    id                       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id                 BIGINT   NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    item_id                  BIGINT   NOT NULL REFERENCES items (id) ON DELETE RESTRICT,
    item_name                TEXT     NOT NULL,
    unit_price               BIGINT   NOT NULL CHECK (unit_price >= 0),
    quantity                 INT      NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    subscription_period_days SMALLINT CHECK (subscription_period_days IN (30, 60, 90)),
    line_total               BIGINT   NOT NULL CHECK (line_total = unit_price * quantity)
);
CREATE UNIQUE INDEX order_lines_line ON order_lines (order_id, item_id, coalesce(subscription_period_days, 0));
CREATE INDEX order_lines_item ON order_lines (item_id);
