DROP TABLE batch_job_leases;
