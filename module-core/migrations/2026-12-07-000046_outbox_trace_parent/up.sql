-- The W3C `traceparent` of the request or job that recorded an event: its handling joins the
-- same trace (NULL when tracing is off).
ALTER TABLE outbox_events ADD COLUMN trace_parent text;
