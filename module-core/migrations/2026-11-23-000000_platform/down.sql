DROP TABLE batch_job_runs;
DROP TABLE idempotency_keys;
