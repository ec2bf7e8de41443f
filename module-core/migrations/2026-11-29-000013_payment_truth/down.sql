ALTER TABLE orders DROP CONSTRAINT orders_canceled_at;
UPDATE orders SET canceled_at = NULL WHERE status = 'REFUNDED';
ALTER TABLE orders ADD CONSTRAINT orders_check CHECK ((status = 'CANCELED') = (canceled_at IS NOT NULL));

DROP INDEX payments_refund_pending;
ALTER TABLE payments
    DROP CONSTRAINT payments_refund_requested_at,
    DROP CONSTRAINT payments_refunded_at,
    DROP CONSTRAINT payments_status_check,
    DROP COLUMN refund_error,
    DROP COLUMN refunded_at,
    DROP COLUMN refund_requested_at,
    DROP COLUMN pg_token_digest;
UPDATE payments SET status = CASE status
    WHEN 'PAID' THEN 'APPROVED'
    WHEN 'REFUND_PENDING' THEN 'CANCEL_REQUESTED'
    WHEN 'REFUND_FAILED' THEN 'CANCEL_REQUESTED'
    WHEN 'REFUNDED' THEN 'CANCELED'
    ELSE status END;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('READY', 'APPROVED', 'CANCEL_REQUESTED', 'CANCELED'));
