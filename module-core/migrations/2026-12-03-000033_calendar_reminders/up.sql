-- Calendar reminders and pets' D-days become notifications (the calendar-reminders job).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY'));

-- The events whose reminders the job must look at: at `due_at` (the next reminder, or at once
-- after a change), sending those from `from_at` on. Only events with reminders and a reminder
-- to come have a row. A narrow table of its own, because the job moves every row it sends for
-- (a change of the wide, many-indexed event row would cost several times as much).
CREATE TABLE calendar_reminder_queue (
    event_id BIGINT      PRIMARY KEY REFERENCES calendar_events (id) ON DELETE CASCADE,
    due_at   TIMESTAMPTZ NOT NULL,
    from_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX calendar_reminder_queue_due ON calendar_reminder_queue (due_at);
INSERT INTO calendar_reminder_queue (event_id, due_at, from_at)
SELECT id, now(), now() FROM calendar_events WHERE cardinality(reminders) > 0;

-- The business days whose D-day notifications were sent (in the same transaction).
CREATE TABLE pet_dday_runs (
    day      DATE        PRIMARY KEY,
    sent     INTEGER     NOT NULL CHECK (sent >= 0),
    ran_at   TIMESTAMPTZ NOT NULL
);
