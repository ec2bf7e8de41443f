-- Payments say what the gateway said, in the words the API shows (`payment.status` on an order):
-- READY → PAID → REFUND_PENDING → REFUNDED, or REFUND_FAILED when the gateway refused for good.
-- An approval keeps a digest of its pg_token: only the browser that approved may see the outcome
-- again through the return URL.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
UPDATE payments SET status = CASE status
    WHEN 'APPROVED' THEN 'PAID'
    WHEN 'CANCEL_REQUESTED' THEN 'REFUND_PENDING'
    WHEN 'CANCELED' THEN 'REFUNDED'
    ELSE status END;
ALTER TABLE payments
    ADD CONSTRAINT payments_status_check
        CHECK (status IN ('READY', 'PAID', 'REFUND_PENDING', 'REFUNDED', 'REFUND_FAILED')),
    ADD COLUMN pg_token_digest     TEXT,
    ADD COLUMN refund_requested_at TIMESTAMPTZ,
    ADD COLUMN refunded_at         TIMESTAMPTZ,
    -- Why the gateway refused the refund, for support.
    ADD COLUMN refund_error        TEXT,
    ADD CONSTRAINT payments_refunded_at CHECK ((status = 'REFUNDED') = (refunded_at IS NOT NULL));
UPDATE payments SET refund_requested_at = updated_at WHERE status IN ('REFUND_PENDING', 'REFUNDED');
UPDATE payments SET refunded_at = updated_at WHERE status = 'REFUNDED';
ALTER TABLE payments ADD CONSTRAINT payments_refund_requested_at
    CHECK ((status IN ('REFUND_PENDING', 'REFUNDED', 'REFUND_FAILED')) = (refund_requested_at IS NOT NULL));
CREATE INDEX payments_refund_pending ON payments (refund_requested_at) WHERE status = 'REFUND_PENDING';

-- A cancelled paid order is CANCELED while its refund is pending and REFUNDED once the gateway
-- confirmed it; both carry the time it was cancelled.
ALTER TABLE orders DROP CONSTRAINT orders_check;
UPDATE orders SET canceled_at = updated_at WHERE status = 'REFUNDED' AND canceled_at IS NULL;
ALTER TABLE orders ADD CONSTRAINT orders_canceled_at
    CHECK ((status IN ('CANCELED', 'REFUNDED')) = (canceled_at IS NOT NULL));
