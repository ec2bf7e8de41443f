DROP TABLE batch_job_idle_runs;
DROP TRIGGER outbox_events_wake_on_retry ON outbox_events;
DROP TRIGGER outbox_events_wake_on_insert ON outbox_events;
DROP FUNCTION outbox_wake_relay();
