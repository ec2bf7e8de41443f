-- Calendar reminders and pets' D-days become notifications (the calendar-reminders job).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY'));

-- An event's reminders are due from `reminders_from` on; the job looks at it again at
-- `next_reminder_at` (the next reminder, or at once after a change). Events without reminders
-- have neither, so the job's index holds only what it may have to send.
ALTER TABLE calendar_events
    ADD COLUMN next_reminder_at TIMESTAMPTZ,
    ADD COLUMN reminders_from TIMESTAMPTZ,
    ADD CHECK ((next_reminder_at IS NULL) OR cardinality(reminders) > 0);
UPDATE calendar_events SET next_reminder_at = now(), reminders_from = now()
 WHERE cardinality(reminders) > 0;
CREATE INDEX calendar_events_next_reminder ON calendar_events (next_reminder_at)
    WHERE next_reminder_at IS NOT NULL;

-- The business days whose D-day notifications were sent (in the same transaction).
CREATE TABLE pet_dday_runs (
    day      DATE        PRIMARY KEY,
    sent     INTEGER     NOT NULL CHECK (sent >= 0),
    ran_at   TIMESTAMPTZ NOT NULL
);
