DELETE FROM moderation_log WHERE target_type = 'CHAT_MESSAGE';
ALTER TABLE moderation_log DROP CONSTRAINT moderation_log_target_type_check,
    ADD CONSTRAINT moderation_log_target_type_check
        CHECK (target_type IN ('POST', 'COMMENT', 'LISTING'));
DELETE FROM reports WHERE target_type = 'CHAT_MESSAGE';
ALTER TABLE reports DROP CONSTRAINT reports_target_type_check,
    ADD CONSTRAINT reports_target_type_check CHECK (target_type IN ('POST', 'COMMENT', 'LISTING'));
DELETE FROM notifications WHERE kind = 'CHAT_MESSAGE';
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED'));
DROP TABLE user_blocks;
DROP TABLE chat_messages;
DROP TABLE chat_members;
DROP TABLE chat_rooms;
