-- Marks approved charges settled; only those still in flight.
-- $1 charge ids, $2 tids, $3 how each was resolved, $4 now.
UPDATE subscription_charges c
   SET status = 'APPROVED', tid = u.tid, resolved_by = u.resolved_by, approved_at = $4,
       lease_until = NULL, last_error = NULL, updated_at = $4
  FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, tid, resolved_by)
 WHERE c.id = u.id AND c.status = 'IN_FLIGHT'
RETURNING c.id
