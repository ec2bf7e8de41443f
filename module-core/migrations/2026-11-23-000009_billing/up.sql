-- Subscription billing: one charge per (subscription, cycle), whatever fails.

ALTER TABLE subscriptions
    -- The last cycle charged (the first order's date until the first renewal).
    ADD COLUMN last_cycle_date   DATE,
    -- Failed charge attempts of the current cycle, and when the next one is due.
    ADD COLUMN failed_attempts   SMALLINT    NOT NULL DEFAULT 0 CHECK (failed_attempts BETWEEN 0 AND 10),
    ADD COLUMN retry_at          TIMESTAMPTZ,
    ADD COLUMN last_failure      TEXT,
    ADD COLUMN last_charged_at   TIMESTAMPTZ,
    -- The gateway's time of the latest approval on this sid that we know of: a later
    -- `last_approved_at` in the gateway's status means a charge whose answer we lost.
    ADD COLUMN sid_approved_at   TIMESTAMPTZ,
    ADD COLUMN paused_at         TIMESTAMPTZ,
    ADD COLUMN cancel_reason     TEXT CHECK (cancel_reason IN ('USER', 'PAYMENT_FAILED', 'SUBSCRIPTION_INVALID'));
UPDATE subscriptions SET last_cycle_date = anchor_date,
    paused_at = CASE WHEN status = 'PAUSED' THEN updated_at END,
    cancel_reason = CASE WHEN status = 'CANCELED' THEN 'USER' END;
ALTER TABLE subscriptions ALTER COLUMN last_cycle_date SET NOT NULL,
    ADD CONSTRAINT subscriptions_paused CHECK ((status = 'PAUSED') = (paused_at IS NOT NULL)),
    ADD CONSTRAINT subscriptions_cancel_reason CHECK ((status = 'CANCELED') = (cancel_reason IS NOT NULL)),
    ADD CONSTRAINT subscriptions_cycle_order CHECK (next_billing_date > last_cycle_date);
DROP INDEX subscriptions_due;
CREATE INDEX subscriptions_due ON subscriptions (next_billing_date, id) WHERE status = 'ACTIVE';
CREATE INDEX subscriptions_sid ON subscriptions (sid);

-- A renewal order belongs to one cycle of one subscription, at most once.
ALTER TABLE orders
    ADD COLUMN subscription_id BIGINT REFERENCES subscriptions (id) ON DELETE RESTRICT,
    ADD COLUMN billing_cycle   DATE,
    ADD CONSTRAINT orders_renewal CHECK ((subscription_id IS NULL) = (billing_cycle IS NULL)),
    ADD CONSTRAINT orders_one_per_cycle UNIQUE (subscription_id, billing_cycle);

-- One row per (subscription, cycle), recorded before the gateway is called.
CREATE TABLE subscription_charges (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id BIGINT      NOT NULL REFERENCES subscriptions (id) ON DELETE RESTRICT,
    cycle_date      DATE        NOT NULL,
    sid             TEXT        NOT NULL,
    amount          BIGINT      NOT NULL CHECK (amount > 0),
    -- IN_FLIGHT: sent or about to be; its outcome is unknown until resolved.
    status          TEXT        NOT NULL CHECK (status IN ('IN_FLIGHT', 'RETRY', 'APPROVED', 'GAVE_UP')),
    attempts        SMALLINT    NOT NULL CHECK (attempts >= 1),
    -- Another instance leaves an IN_FLIGHT charge alone until this passes (then it resolves it).
    lease_until     TIMESTAMPTZ,
    tid             TEXT        UNIQUE,
    order_id        BIGINT      UNIQUE REFERENCES orders (id) ON DELETE RESTRICT,
    last_error      TEXT,
    -- How the outcome became known: the gateway's answer, or a lookup after a lost answer.
    resolved_by     TEXT        CHECK (resolved_by IN ('ANSWER', 'SID_STATUS')),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    approved_at     TIMESTAMPTZ,
    UNIQUE (subscription_id, cycle_date),
    CHECK ((status = 'IN_FLIGHT') = (lease_until IS NOT NULL)),
    CHECK ((status = 'APPROVED') = (approved_at IS NOT NULL))
);
-- One unknown outcome per sid at a time, so the sid's status always tells whose charge it was.
CREATE UNIQUE INDEX subscription_charges_one_in_flight_per_sid
    ON subscription_charges (sid) WHERE status = 'IN_FLIGHT';
CREATE INDEX subscription_charges_in_flight ON subscription_charges (lease_until) WHERE status = 'IN_FLIGHT';
