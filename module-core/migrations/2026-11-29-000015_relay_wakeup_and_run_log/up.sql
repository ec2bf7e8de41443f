-- The relay is woken when an event is committed (or sent back to PENDING by an admin) instead
-- of waiting for its next poll: a notification on `petory_outbox`, delivered by PostgreSQL at
-- commit and only then (a rolled-back event wakes nobody). One per statement, so a bulk insert
-- is one wake-up.
CREATE FUNCTION outbox_wake_relay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('petory_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_events_wake_on_insert AFTER INSERT ON outbox_events
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake_relay();
CREATE TRIGGER outbox_events_wake_on_retry AFTER UPDATE OF status ON outbox_events
    FOR EACH ROW WHEN (NEW.status = 'PENDING' AND OLD.status <> 'PENDING')
    EXECUTE FUNCTION outbox_wake_relay();

-- Scheduled runs that found nothing to do are counted per job and day instead of kept one row
-- each (the 10-second and 1-minute jobs made ~10,000 rows a day).
CREATE TABLE batch_job_idle_runs (
    job              TEXT        NOT NULL CHECK (job ~ '^[a-z][a-z0-9-]*$'),
    business_date    DATE        NOT NULL,
    runs             INT         NOT NULL CHECK (runs > 0),
    last_finished_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job, business_date)
);
