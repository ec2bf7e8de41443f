ALTER TABLE users
    ADD COLUMN avatar_thumbnail_key TEXT,
    ADD COLUMN avatar_thumbnail_failed_at TIMESTAMPTZ;
CREATE INDEX users_avatar_thumbnail_due ON users (id)
    WHERE avatar_key IS NOT NULL AND avatar_thumbnail_key IS NULL
      AND avatar_thumbnail_failed_at IS NULL;
ALTER TABLE album_photos
    ADD COLUMN thumbnail_key TEXT CHECK (length(thumbnail_key) BETWEEN 1 AND 300),
    ADD COLUMN thumbnail_failed_at TIMESTAMPTZ;
CREATE INDEX album_photos_unthumbnailed ON album_photos (id)
    WHERE thumbnail_key IS NULL AND thumbnail_failed_at IS NULL AND deleted_at IS NULL;

DROP INDEX uploads_withholding_due;
DROP INDEX uploads_versions_due;
ALTER TABLE uploads
    DROP COLUMN versions_withheld,
    DROP COLUMN withheld_at,
    DROP COLUMN failure,
    DROP COLUMN failed_at,
    DROP COLUMN versions_at;
