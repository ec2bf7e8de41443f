-- One occurrence of a series edited on its own (RFC 5545 RECURRENCE-ID): named by the local date
-- the series puts it on, it replaces that occurrence with its own times and text. Cancelling the
-- occurrence, rewriting the series or splitting it from an earlier date removes it.
CREATE TABLE calendar_event_overrides (
    event_id        BIGINT    NOT NULL REFERENCES calendar_events (id) ON DELETE CASCADE,
    occurrence_date DATE      NOT NULL,
    title           TEXT      NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    memo            TEXT      NOT NULL CHECK (length(memo) <= 2000),
    starts_local    TIMESTAMP NOT NULL,
    ends_local      TIMESTAMP NOT NULL,
    color           TEXT      NOT NULL CHECK (color ~ '^#[0-9A-F]{6}$'),
    PRIMARY KEY (event_id, occurrence_date),
    CHECK (ends_local > starts_local),
    CHECK (ends_local <= starts_local + interval '366 days')
);

-- The UID of an event imported from an iCalendar file: importing the file again updates it.
ALTER TABLE calendar_events ADD COLUMN ical_uid TEXT CHECK (length(ical_uid) BETWEEN 1 AND 255);
CREATE UNIQUE INDEX calendar_events_ical_uid ON calendar_events (user_id, ical_uid);
