DROP INDEX calendar_events_ical_uid;
ALTER TABLE calendar_events DROP COLUMN ical_uid;
DROP TABLE calendar_event_overrides;
