DELETE FROM notification_settings WHERE kind IN ('LISTING_WISHED', 'WISHED_PRICE_DROPPED');
ALTER TABLE notification_settings DROP CONSTRAINT notification_settings_kind_check,
    ADD CONSTRAINT notification_settings_kind_check CHECK (kind IN ('DAILY_QUESTION',
        'ORDER_STATUS', 'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY', 'POST_COMMENTED', 'COMMENT_REPLIED'));
DELETE FROM notifications WHERE kind IN ('LISTING_WISHED', 'WISHED_PRICE_DROPPED');
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY', 'POST_COMMENTED', 'COMMENT_REPLIED'));
CREATE INDEX post_likes_user ON post_likes (user_id);
DROP INDEX post_likes_mine;
ALTER TABLE post_likes DROP COLUMN id;
ALTER TABLE listings DROP COLUMN wish_count;
DROP TABLE listing_wishes;
DROP TABLE post_bookmarks;
