-- Folds a scheduled run that did nothing into its day's idle count.
-- $1 run id, $2 now.
WITH gone AS (
   DELETE FROM batch_job_runs WHERE id = $1 AND trigger = 'SCHEDULE'
   RETURNING job, business_date)
INSERT INTO batch_job_idle_runs (job, business_date, runs, last_finished_at)
SELECT job, business_date, 1, $2 FROM gone
ON CONFLICT (job, business_date) DO UPDATE
   SET runs = batch_job_idle_runs.runs + 1,
       last_finished_at = EXCLUDED.last_finished_at
