-- Batch replicas run each scheduled job once per tick: a replica runs a job only when it
-- claims the job's lease, which lapses `until` (renewed while the job runs, so a replica that
-- died mid-run leaves the next tick to another), and which no one claims again within the
-- tick it was claimed in (`started_at`).
CREATE TABLE batch_job_leases (
    job text PRIMARY KEY,
    holder text NOT NULL,
    started_at timestamptz NOT NULL,
    until timestamptz NOT NULL
);
