-- Uploads that their content released for good (a replaced album photo) are removed from
-- storage at once, or by the hourly prune; no content takes them again.
ALTER TABLE uploads ADD COLUMN discarded_at TIMESTAMPTZ;
CREATE INDEX uploads_discarded ON uploads (created_at) WHERE discarded_at IS NOT NULL;

-- The daily album: one photo a day per member (a business day), private or public, with a
-- 320 px WebP thumbnail made once by the batch binary. Photos taken down by moderation keep
-- their row (deleted_at) and free their day.
CREATE TABLE album_photos (
    id             BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day            DATE        NOT NULL,
    image_key      TEXT        NOT NULL REFERENCES uploads (key),
    thumbnail_key  TEXT        CHECK (length(thumbnail_key) BETWEEN 1 AND 300),
    -- Thumbnailing failed for good (not an image the decoder reads): lists use the original.
    thumbnail_failed_at TIMESTAMPTZ,
    caption        TEXT        NOT NULL DEFAULT '' CHECK (length(caption) <= 300),
    visibility     TEXT        NOT NULL CHECK (visibility IN ('PRIVATE', 'PUBLIC')),
    hidden_at      TIMESTAMPTZ,
    deleted_at     TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX album_photos_one_a_day ON album_photos (user_id, day) WHERE deleted_at IS NULL;
-- One image is one day's photo: removing a day removes its image.
CREATE UNIQUE INDEX album_photos_image ON album_photos (image_key) WHERE deleted_at IS NULL;
CREATE INDEX album_photos_image_key ON album_photos (image_key);
-- "On this day": my photos of a month and day, any year.
CREATE INDEX album_photos_anniversary ON album_photos (user_id, extract(month FROM day), extract(day FROM day))
    WHERE deleted_at IS NULL;
-- The public feed, newest first.
CREATE INDEX album_photos_feed ON album_photos (id DESC)
    WHERE visibility = 'PUBLIC' AND hidden_at IS NULL AND deleted_at IS NULL;
-- Photos waiting for their thumbnail.
CREATE INDEX album_photos_unthumbnailed ON album_photos (id)
    WHERE thumbnail_key IS NULL AND thumbnail_failed_at IS NULL AND deleted_at IS NULL;

-- Album photos join the one moderation model.
ALTER TABLE reports DROP CONSTRAINT reports_target_type_check,
    ADD CONSTRAINT reports_target_type_check CHECK (target_type IN
        ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE', 'PLACE_REVIEW', 'PLACE', 'ALBUM_PHOTO'));

ALTER TABLE moderation_log DROP CONSTRAINT moderation_log_target_type_check,
    ADD CONSTRAINT moderation_log_target_type_check CHECK (target_type IN
        ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE', 'PLACE_REVIEW', 'PLACE', 'ALBUM_PHOTO'));
