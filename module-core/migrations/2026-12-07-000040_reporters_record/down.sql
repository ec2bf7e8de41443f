DROP INDEX reports_reporter_decided;
