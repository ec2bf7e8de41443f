-- Reviews of places: one live review per member and place; the place keeps the count and the
-- sum of stars, moved under its row's lock, so the average stays exact under concurrent writes.
CREATE TABLE place_reviews (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    place_id    BIGINT      NOT NULL REFERENCES places (id) ON DELETE CASCADE,
    author_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stars       SMALLINT    NOT NULL CHECK (stars BETWEEN 1 AND 5),
    content     TEXT        NOT NULL CHECK (length(content) BETWEEN 1 AND 2000),
    image_keys  TEXT[]      NOT NULL DEFAULT '{}' CHECK (cardinality(image_keys) <= 5),
    hidden_at   TIMESTAMPTZ,
    deleted_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX place_reviews_one_per_author ON place_reviews (place_id, author_id)
    WHERE deleted_at IS NULL;
CREATE INDEX place_reviews_newest ON place_reviews (place_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX place_reviews_stars ON place_reviews (place_id, stars DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX place_reviews_place ON place_reviews (place_id);
CREATE INDEX place_reviews_author ON place_reviews (author_id);
