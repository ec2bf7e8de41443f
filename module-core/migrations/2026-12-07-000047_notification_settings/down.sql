ALTER TABLE chat_members DROP COLUMN muted;
ALTER TABLE users ADD COLUMN notify_daily_question BOOLEAN NOT NULL DEFAULT true;
UPDATE users u SET notify_daily_question = false
  FROM notification_settings s
 WHERE s.user_id = u.id AND s.kind = 'DAILY_QUESTION' AND NOT s.in_app;
DROP TABLE notification_settings;
DELETE FROM notifications WHERE kind IN ('POST_COMMENTED', 'COMMENT_REPLIED');
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY'));
