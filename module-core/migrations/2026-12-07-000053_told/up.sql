-- Being told (#27): likes of my post (aggregated, at most once an hour per post), moderation
-- decisions on my content, and the resolution of my reports.

-- Posts liked since their author was last told: one row per post, added by the like's
-- transaction, claimed and removed by the `post-likes` job.
CREATE TABLE post_likes_untold (
    post_id BIGINT      PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    since   TIMESTAMPTZ NOT NULL
);

-- When a post's author was last told of its likes, and up to which like.
CREATE TABLE post_like_notices (
    post_id      BIGINT      PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    last_like_id BIGINT      NOT NULL CHECK (last_like_id > 0),
    notified_at  TIMESTAMPTZ NOT NULL
);

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
