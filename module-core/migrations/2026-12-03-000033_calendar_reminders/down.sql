DROP TABLE pet_dday_runs;
DROP INDEX calendar_events_next_reminder;
ALTER TABLE calendar_events DROP COLUMN reminders_from, DROP COLUMN next_reminder_at;
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE'));
