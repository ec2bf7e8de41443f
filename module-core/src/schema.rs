// Diesel table definitions, kept in step with `migrations/` (the schema tests compare them).

diesel::table! {
    idempotency_keys (owner, key) {
        owner -> Text,
        key -> Text,
        request_hash -> Bytea,
        state -> Text,
        response_status -> Nullable<Int2>,
        response_headers -> Nullable<Jsonb>,
        response_body -> Nullable<Bytea>,
        locked_until -> Timestamptz,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    batch_job_runs (id) {
        id -> Int8,
        job -> Text,
        business_date -> Date,
        trigger -> Text,
        status -> Text,
        counts -> Jsonb,
        error -> Nullable<Text>,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}
