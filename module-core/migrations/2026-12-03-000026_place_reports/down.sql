DELETE FROM moderation_log WHERE target_type = 'PLACE';
ALTER TABLE moderation_log DROP CONSTRAINT moderation_log_target_type_check,
    ADD CONSTRAINT moderation_log_target_type_check CHECK (target_type IN
        ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE', 'PLACE_REVIEW'));
DELETE FROM reports WHERE target_type = 'PLACE';
ALTER TABLE reports DROP CONSTRAINT reports_target_type_check,
    ADD CONSTRAINT reports_target_type_check CHECK (target_type IN
        ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE', 'PLACE_REVIEW'));
