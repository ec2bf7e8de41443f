-- Places join the one moderation model (content without an author: members report what a
-- place claims, admins hide or take it down).
ALTER TABLE reports DROP CONSTRAINT reports_target_type_check,
    ADD CONSTRAINT reports_target_type_check CHECK (target_type IN
        ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE', 'PLACE_REVIEW', 'PLACE'));

ALTER TABLE moderation_log DROP CONSTRAINT moderation_log_target_type_check,
    ADD CONSTRAINT moderation_log_target_type_check CHECK (target_type IN
        ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE', 'PLACE_REVIEW', 'PLACE'));
