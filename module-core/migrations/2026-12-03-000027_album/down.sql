DELETE FROM moderation_log WHERE target_type = 'ALBUM_PHOTO';
ALTER TABLE moderation_log DROP CONSTRAINT moderation_log_target_type_check,
    ADD CONSTRAINT moderation_log_target_type_check CHECK (target_type IN
        ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE', 'PLACE_REVIEW', 'PLACE'));
DELETE FROM reports WHERE target_type = 'ALBUM_PHOTO';
ALTER TABLE reports DROP CONSTRAINT reports_target_type_check,
    ADD CONSTRAINT reports_target_type_check CHECK (target_type IN
        ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE', 'PLACE_REVIEW', 'PLACE'));
DROP TABLE album_photos;
ALTER TABLE uploads DROP COLUMN discarded_at;
