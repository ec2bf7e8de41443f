-- Subscriptions also end when their account closes (withdrawal or deletion) and when the order
-- that started them is refunded.
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_cancel_reason_check,
    ADD CONSTRAINT subscriptions_cancel_reason_check CHECK (cancel_reason IN
        ('USER', 'PAYMENT_FAILED', 'SUBSCRIPTION_INVALID', 'ACCOUNT_CLOSED', 'ORDER_REFUNDED'));
