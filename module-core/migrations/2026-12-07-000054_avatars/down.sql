DROP INDEX users_avatar_thumbnail_due;
ALTER TABLE users DROP COLUMN avatar_thumbnail_failed_at, DROP COLUMN avatar_thumbnail_key,
    DROP COLUMN avatar_key;
DELETE FROM uploads WHERE purpose = 'AVATAR';
ALTER TABLE uploads DROP CONSTRAINT uploads_purpose_check,
    ADD CONSTRAINT uploads_purpose_check CHECK (purpose IN ('PET', 'POST', 'TRADE', 'CHAT', 'ALBUM',
        'PLACE_REVIEW', 'PLACE', 'ITEM', 'ITEM_REVIEW'));
