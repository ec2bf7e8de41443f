-- The pet calendar: events in their own IANA time zone, with local start and end (dates at
-- midnight for all-day events, the end exclusive), an optional RFC 5545 recurrence rule with
-- exception dates (local start times of cancelled occurrences), and reminders.
CREATE TABLE calendar_events (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pet_id      BIGINT      REFERENCES pets (id) ON DELETE SET NULL,
    title       TEXT        NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    memo        TEXT        NOT NULL DEFAULT '' CHECK (length(memo) <= 2000),
    all_day     BOOLEAN     NOT NULL,
    starts_local TIMESTAMP  NOT NULL,
    ends_local  TIMESTAMP   NOT NULL,
    time_zone   TEXT        NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    color       TEXT        NOT NULL DEFAULT '#3788D8' CHECK (color ~ '^#[0-9A-F]{6}$'),
    rrule       TEXT        CHECK (length(rrule) BETWEEN 1 AND 500),
    exdates     TIMESTAMP[] NOT NULL DEFAULT '{}' CHECK (cardinality(exdates) <= 366),
    reminders   INTEGER[]   NOT NULL DEFAULT '{}' CHECK (cardinality(reminders) <= 5),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CHECK (ends_local > starts_local),
    CHECK (ends_local <= starts_local + interval '366 days'),
    CHECK (NOT all_day OR (starts_local::time = '00:00' AND ends_local::time = '00:00')),
    CHECK (0 <= ALL (reminders) AND 40320 >= ALL (reminders))
);

CREATE INDEX calendar_events_user ON calendar_events (user_id, id);
CREATE INDEX calendar_events_pet ON calendar_events (pet_id) WHERE pet_id IS NOT NULL;
