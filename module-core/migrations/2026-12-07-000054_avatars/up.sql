-- A member's picture: an upload of purpose AVATAR, shown square (a 256 px WebP made by the
-- `avatar-thumbnails` job) on their profile and to themself.
ALTER TABLE uploads DROP CONSTRAINT uploads_purpose_check,
    ADD CONSTRAINT uploads_purpose_check CHECK (purpose IN ('PET', 'POST', 'TRADE', 'CHAT', 'ALBUM',
        'PLACE_REVIEW', 'PLACE', 'ITEM', 'ITEM_REVIEW', 'AVATAR'));

ALTER TABLE users
    ADD COLUMN avatar_key TEXT,
    ADD COLUMN avatar_thumbnail_key TEXT,
    ADD COLUMN avatar_thumbnail_failed_at TIMESTAMPTZ;

-- The job's queue: avatars without their square yet.
CREATE INDEX users_avatar_thumbnail_due ON users (id)
    WHERE avatar_key IS NOT NULL AND avatar_thumbnail_key IS NULL
      AND avatar_thumbnail_failed_at IS NULL;
