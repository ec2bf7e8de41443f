-- Every attached upload gets served versions (320, 640 and 1,600 px WebP, made by the
-- `image-versions` job), after which its original is deleted. The album's thumbnails and the
-- avatars' squares were earlier, narrower forms of the same: their columns go (the job makes
-- versions for every attached upload, theirs included).
ALTER TABLE uploads
    ADD COLUMN versions_at TIMESTAMPTZ,
    ADD COLUMN failed_at TIMESTAMPTZ,
    ADD COLUMN failure TEXT CHECK (length(failure) BETWEEN 1 AND 500),
    -- Moderation hid or deleted the content that holds the image.
    ADD COLUMN withheld_at TIMESTAMPTZ,
    -- Whether the versions were moved under `withheld/` (the job follows `withheld_at`).
    ADD COLUMN versions_withheld BOOLEAN NOT NULL DEFAULT false,
    ADD CONSTRAINT uploads_failure_explained CHECK ((failed_at IS NULL) = (failure IS NULL)),
    ADD CONSTRAINT uploads_versions_or_failure CHECK (versions_at IS NULL OR failed_at IS NULL),
    ADD CONSTRAINT uploads_versions_of_attached CHECK (versions_at IS NULL OR attached_at IS NOT NULL);

-- The job's queue: attached uploads without versions.
CREATE INDEX uploads_versions_due ON uploads (attached_at)
    WHERE attached_at IS NOT NULL AND versions_at IS NULL AND failed_at IS NULL
      AND discarded_at IS NULL;
-- Versions to move because moderation changed its mind.
CREATE INDEX uploads_withholding_due ON uploads (key)
    WHERE versions_at IS NOT NULL AND (withheld_at IS NOT NULL) <> versions_withheld;

DROP INDEX album_photos_unthumbnailed;
ALTER TABLE album_photos DROP COLUMN thumbnail_key, DROP COLUMN thumbnail_failed_at;
DROP INDEX users_avatar_thumbnail_due;
ALTER TABLE users DROP COLUMN avatar_thumbnail_key, DROP COLUMN avatar_thumbnail_failed_at;
