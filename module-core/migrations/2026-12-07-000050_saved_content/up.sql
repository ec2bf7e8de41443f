-- What a member keeps: posts to read later (bookmarks) and listings they want (wishes, 찜),
-- each listed newest first; what they liked is listed too, so a like gets an id to page by.

CREATE TABLE post_bookmarks (
    id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id    BIGINT      NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, post_id)
);

CREATE INDEX post_bookmarks_mine ON post_bookmarks (user_id, id);
CREATE INDEX post_bookmarks_post ON post_bookmarks (post_id);

CREATE TABLE listing_wishes (
    id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    listing_id BIGINT      NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, listing_id)
);

CREATE INDEX listing_wishes_mine ON listing_wishes (user_id, id);
-- Whom to tell when the price drops.
CREATE INDEX listing_wishes_listing ON listing_wishes (listing_id);

-- Moves with the wishes, in their transaction; the seller sees interest only as this count.
ALTER TABLE listings ADD COLUMN wish_count INTEGER NOT NULL DEFAULT 0 CHECK (wish_count >= 0);

ALTER TABLE post_likes ADD COLUMN id BIGINT GENERATED ALWAYS AS IDENTITY;
CREATE INDEX post_likes_mine ON post_likes (user_id, id);
DROP INDEX post_likes_user;

-- Sellers are told of wishes, wishers of price drops.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY', 'POST_COMMENTED', 'COMMENT_REPLIED', 'LISTING_WISHED',
        'WISHED_PRICE_DROPPED'));
ALTER TABLE notification_settings DROP CONSTRAINT notification_settings_kind_check,
    ADD CONSTRAINT notification_settings_kind_check CHECK (kind IN ('DAILY_QUESTION',
        'ORDER_STATUS', 'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY', 'POST_COMMENTED', 'COMMENT_REPLIED', 'LISTING_WISHED',
        'WISHED_PRICE_DROPPED'));
