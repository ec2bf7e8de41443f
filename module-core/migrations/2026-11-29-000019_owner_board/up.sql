-- Search that finds Korean (or any) substrings: every one- and two-letter piece of each word
-- is a lexeme, so "산책" finds "산책로". A query ANDs its words' pieces; the caller rechecks
-- that each word really occurs (two pieces may match apart).
CREATE FUNCTION search_grams(body TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_to_tsvector(array_agg(DISTINCT gram)), ''::tsvector)
      FROM regexp_split_to_table(lower(regexp_replace(body, '[^[:alnum:]]+', ' ', 'g')), ' ') AS word,
           generate_series(1, length(word)) AS i,
           LATERAL (VALUES (substr(word, i, 1)), (substr(word, i, 2))) AS piece (gram)
     WHERE gram <> ''
$$;

CREATE FUNCTION search_query(words TEXT) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT string_agg(DISTINCT '''' || gram || '''', ' & ')::tsquery
      FROM regexp_split_to_table(lower(regexp_replace(words, '[^[:alnum:]]+', ' ', 'g')), ' ') AS word,
           generate_series(1, greatest(length(word) - 1, 1)) AS i,
           LATERAL (VALUES (substr(word, i, 2))) AS piece (gram)
     WHERE gram <> ''
$$;

CREATE TABLE posts (
    id            BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category      TEXT        NOT NULL CHECK (category IN ('DAILY', 'QUESTION', 'INFO', 'SHOW_OFF')),
    title         TEXT        NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    content       TEXT        NOT NULL CHECK (length(content) BETWEEN 1 AND 10000),
    image_keys    TEXT[]      NOT NULL DEFAULT '{}' CHECK (cardinality(image_keys) <= 10),
    -- Kept by the same transactions that add and remove likes and comments.
    like_count    INTEGER     NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    comment_count INTEGER     NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    -- Flushed from Redis in batches by the batch binary.
    view_count    BIGINT      NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    hidden_at     TIMESTAMPTZ,
    deleted_at    TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- The feed, newest first, and per category; only what everyone may see.
CREATE INDEX posts_feed ON posts (id DESC) WHERE deleted_at IS NULL AND hidden_at IS NULL;
CREATE INDEX posts_category_feed ON posts (category, id DESC)
    WHERE deleted_at IS NULL AND hidden_at IS NULL;
CREATE INDEX posts_author ON posts (author_id, id);
CREATE INDEX posts_search ON posts USING gin (search_grams(title || ' ' || content))
    WHERE deleted_at IS NULL AND hidden_at IS NULL;

CREATE TABLE post_comments (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id     BIGINT      NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    author_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- One level deep: a reply's parent is a top-level comment (the service checks it under
    -- the post's lock).
    parent_id   BIGINT      REFERENCES post_comments (id) ON DELETE CASCADE,
    content     TEXT        NOT NULL CHECK (length(content) <= 1000),
    hidden_at   TIMESTAMPTZ,
    -- A deleted comment keeps its place (its replies stay under it) but not its words.
    deleted_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CHECK (deleted_at IS NOT NULL OR length(content) >= 1)
);

-- Threads in order: a top-level comment, then its replies.
CREATE INDEX post_comments_thread ON post_comments (post_id, (coalesce(parent_id, id)), id);
CREATE INDEX post_comments_parent ON post_comments (parent_id);
CREATE INDEX post_comments_author ON post_comments (author_id);

CREATE TABLE post_likes (
    post_id    BIGINT      NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (post_id, user_id)
);

CREATE INDEX post_likes_user ON post_likes (user_id);
-- "Popular": likes of the last days, counted per post.
CREATE INDEX post_likes_recent ON post_likes (created_at, post_id);

-- Batches of view counts taken from Redis and stored: a batch offered again after a crash is
-- recognised and skipped.
CREATE TABLE view_flushes (
    batch      TEXT        PRIMARY KEY CHECK (length(batch) BETWEEN 1 AND 100),
    flushed_at TIMESTAMPTZ NOT NULL
);
