ALTER TABLE calendar_event_overrides DROP CONSTRAINT calendar_event_overrides_years;
ALTER TABLE calendar_events
    DROP CONSTRAINT calendar_events_years,
    DROP COLUMN count_last_start;
