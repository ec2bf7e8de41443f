-- Reviews of places join the one moderation model.
ALTER TABLE reports DROP CONSTRAINT reports_target_type_check,
    ADD CONSTRAINT reports_target_type_check
        CHECK (target_type IN ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE', 'PLACE_REVIEW'));

ALTER TABLE moderation_log DROP CONSTRAINT moderation_log_target_type_check,
    ADD CONSTRAINT moderation_log_target_type_check
        CHECK (target_type IN ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE', 'PLACE_REVIEW'));
