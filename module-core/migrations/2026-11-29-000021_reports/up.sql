-- One model of reports for every kind of content: a new kind is a new CHECK value, not a table.
CREATE TABLE reports (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reporter_id  BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_type  TEXT        NOT NULL CHECK (target_type IN ('POST', 'COMMENT', 'LISTING')),
    target_id    BIGINT      NOT NULL,
    reason       TEXT        NOT NULL CHECK (reason IN ('SPAM', 'ABUSE', 'ADULT', 'FRAUD', 'OTHER')),
    detail       TEXT        NOT NULL DEFAULT '' CHECK (length(detail) <= 1000),
    status       TEXT        NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'RESOLVED')),
    resolution   TEXT        CHECK (resolution IN ('DISMISS', 'HIDE', 'DELETE')),
    resolved_by  BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    resolved_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    CHECK ((status = 'OPEN') = (resolution IS NULL AND resolved_at IS NULL))
);

-- One open report per reporter and target.
CREATE UNIQUE INDEX reports_one_open ON reports (reporter_id, target_type, target_id)
    WHERE status = 'OPEN';
CREATE INDEX reports_queue ON reports (status, id DESC);
CREATE INDEX reports_target ON reports (target_type, target_id);
CREATE INDEX reports_resolved_by ON reports (resolved_by);

-- Who did what to which content, when and why (`admin_id` NULL: the automatic hiding).
CREATE TABLE moderation_log (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    admin_id     BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    action       TEXT        NOT NULL CHECK (action IN ('AUTO_HIDE', 'DISMISS', 'HIDE', 'DELETE')),
    target_type  TEXT        NOT NULL CHECK (target_type IN ('POST', 'COMMENT', 'LISTING')),
    target_id    BIGINT      NOT NULL,
    report_id    BIGINT      REFERENCES reports (id) ON DELETE SET NULL,
    note         TEXT        NOT NULL CHECK (length(note) BETWEEN 1 AND 1000),
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX moderation_log_admin ON moderation_log (admin_id);
CREATE INDEX moderation_log_report ON moderation_log (report_id);
CREATE INDEX moderation_log_target ON moderation_log (target_type, target_id);
