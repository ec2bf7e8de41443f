-- A report weighs its reporter's record: the decided reports of one reporter, read by reporter.
CREATE INDEX reports_reporter_decided ON reports (reporter_id, resolution)
    WHERE status = 'RESOLVED';
