DELETE FROM notifications WHERE kind = 'ORDER_SHIPPED';
DELETE FROM notification_settings WHERE kind = 'ORDER_SHIPPED';
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY', 'POST_COMMENTED', 'COMMENT_REPLIED', 'LISTING_WISHED',
        'WISHED_PRICE_DROPPED', 'POST_LIKED', 'CONTENT_MODERATED', 'REPORT_RESOLVED'));
ALTER TABLE notification_settings DROP CONSTRAINT notification_settings_kind_check,
    ADD CONSTRAINT notification_settings_kind_check CHECK (kind IN ('DAILY_QUESTION',
        'ORDER_STATUS', 'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY', 'POST_COMMENTED', 'COMMENT_REPLIED', 'LISTING_WISHED',
        'WISHED_PRICE_DROPPED', 'POST_LIKED', 'CONTENT_MODERATED', 'REPORT_RESOLVED'));
DROP INDEX orders_awaiting_receipt;
DROP INDEX orders_courier;
ALTER TABLE orders DROP CONSTRAINT orders_shipped, DROP CONSTRAINT orders_delivered,
    DROP CONSTRAINT orders_tracking_whole, DROP CONSTRAINT orders_delivered_by,
    DROP COLUMN courier, DROP COLUMN tracking_number, DROP COLUMN shipped_at,
    DROP COLUMN delivered_at, DROP COLUMN delivered_by;
DROP TABLE couriers;
