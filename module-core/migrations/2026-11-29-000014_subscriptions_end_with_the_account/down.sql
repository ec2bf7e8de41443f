UPDATE subscriptions SET cancel_reason = 'USER' WHERE cancel_reason IN ('ACCOUNT_CLOSED', 'ORDER_REFUNDED');
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_cancel_reason_check,
    ADD CONSTRAINT subscriptions_cancel_reason_check CHECK (cancel_reason IN
        ('USER', 'PAYMENT_FAILED', 'SUBSCRIPTION_INVALID'));
