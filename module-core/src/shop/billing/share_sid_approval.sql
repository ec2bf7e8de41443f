-- Every subscription on an sid learns its latest approval time.
-- $1 sids, $2 approval times.
UPDATE subscriptions s SET sid_approved_at = GREATEST(s.sid_approved_at, u.at)
 FROM unnest($1::text[], $2::timestamptz[]) AS u(sid, at)
WHERE s.sid = u.sid AND u.at IS NOT NULL
