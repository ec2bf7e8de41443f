-- The place rankings as PostgreSQL answers them while Redis cannot, by index rather than by
-- counting: the all-time one reads the kept like counts in order; the weekly one a table of
-- each place's likes of the last seven days, refreshed by `rebuild-place-ranking` beside the
-- Redis rankings (as old as the weekly ranking in Redis, at most a run apart).
CREATE INDEX places_most_liked ON places (like_count DESC, id DESC)
    WHERE deleted_at IS NULL AND hidden_at IS NULL AND like_count > 0;

CREATE TABLE place_week_likes (
    place_id bigint PRIMARY KEY REFERENCES places (id) ON DELETE CASCADE,
    likes int NOT NULL CHECK (likes > 0)
);
CREATE INDEX place_week_likes_most ON place_week_likes (likes DESC, place_id DESC);
