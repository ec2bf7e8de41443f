-- Calendar events live within 1900-2200 (a daily rule walked from year 1 cost seconds per
-- listing), and a rule with COUNT keeps where its last occurrence starts, so that expansion
-- can read it as a rule ending there (UNTIL) and begin at any window instead of at its first
-- start. NULL: no COUNT (or written before this column; such a rule is walked from its start).
ALTER TABLE calendar_events
    ADD COLUMN count_last_start timestamptz,
    ADD CONSTRAINT calendar_events_years CHECK (
        starts_local >= '1900-01-01' AND ends_local < '2201-01-01'
    );
ALTER TABLE calendar_event_overrides
    ADD CONSTRAINT calendar_event_overrides_years CHECK (
        starts_local >= '1900-01-01' AND ends_local < '2201-01-01'
    );
