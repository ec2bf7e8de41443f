-- Platform tables: idempotent POST replay and the batch job run log.

CREATE TABLE idempotency_keys (
    -- Who sent the key: a user id, or 'anonymous' for guests. Keys are private to their owner.
    owner           TEXT        NOT NULL,
    key             TEXT        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of method, path, query and body: the same key with another request is a conflict.
    request_hash    BYTEA       NOT NULL CHECK (length(request_hash) = 32),
    state           TEXT        NOT NULL DEFAULT 'IN_PROGRESS' CHECK (state IN ('IN_PROGRESS', 'COMPLETED')),
    response_status SMALLINT    CHECK (response_status BETWEEN 100 AND 599),
    response_headers JSONB,
    response_body   BYTEA,
    -- An IN_PROGRESS claim past this time belongs to a crashed request and may be taken over.
    locked_until    TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (owner, key),
    CHECK (state = 'IN_PROGRESS' OR (response_status IS NOT NULL AND response_body IS NOT NULL))
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

CREATE TABLE batch_job_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         TEXT        NOT NULL CHECK (job ~ '^[a-z][a-z0-9-]*$'),
    -- The business day the run worked on (the `--date` of a one-off run).
    business_date DATE      NOT NULL,
    trigger     TEXT        NOT NULL CHECK (trigger IN ('SCHEDULE', 'MANUAL')),
    status      TEXT        NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED')),
    counts      JSONB       NOT NULL DEFAULT '{}'::jsonb,
    error       TEXT,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    CHECK ((status = 'RUNNING') = (finished_at IS NULL)),
    CHECK (status <> 'FAILED' OR error IS NOT NULL)
);
CREATE INDEX batch_job_runs_job_started ON batch_job_runs (job, started_at DESC);
CREATE INDEX batch_job_runs_started ON batch_job_runs (started_at DESC, id DESC);
