-- What the open reports of one content ($1 type, $2 id) weigh together. A report weighs
-- nothing when its reporter's address is unproven or the account was made after $3, nothing
-- when an admin dismissed the same reporter's report of this content before, and otherwise
-- (upheld + 1) / (upheld + dismissed + 1) over the reporter's decided reports.
SELECT coalesce(sum(
         CASE
           WHEN u.email_verified_at IS NULL OR u.created_at > $3 THEN 0
           WHEN EXISTS (SELECT 1 FROM reports d
                         WHERE d.reporter_id = r.reporter_id
                           AND d.target_type = r.target_type AND d.target_id = r.target_id
                           AND d.status = 'RESOLVED' AND d.resolution = 'DISMISS') THEN 0
           ELSE (record.upheld + 1)::float8 / (record.upheld + record.dismissed + 1)
         END), 0)::float8 AS weight
  FROM reports r
  JOIN users u ON u.id = r.reporter_id
 CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE x.resolution IN ('HIDE', 'DELETE')) AS upheld,
                count(*) FILTER (WHERE x.resolution = 'DISMISS') AS dismissed
           FROM reports x
          WHERE x.reporter_id = r.reporter_id AND x.status = 'RESOLVED') AS record
 WHERE r.target_type = $1 AND r.target_id = $2 AND r.status = 'OPEN'
