DROP TABLE subscription_charges;
ALTER TABLE orders DROP COLUMN billing_cycle, DROP COLUMN subscription_id;
DROP INDEX subscriptions_sid;
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_cycle_order,
    DROP COLUMN cancel_reason, DROP COLUMN paused_at, DROP COLUMN sid_approved_at,
    DROP COLUMN last_charged_at, DROP COLUMN last_failure, DROP COLUMN retry_at,
    DROP COLUMN failed_attempts, DROP COLUMN last_cycle_date;
