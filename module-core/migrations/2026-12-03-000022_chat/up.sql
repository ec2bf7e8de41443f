-- 1:1 chat about a listing: one room per (listing, buyer), messages with a gap-free sequence
-- per room, and each member's read position, so lists and unread counts are one indexed query.

CREATE TABLE chat_rooms (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    listing_id  BIGINT      NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    seller_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    buyer_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The sequence number of the room's last message (0: none yet). Sending locks the room's
    -- row to take the next number, so numbers commit in order and without gaps.
    last_seq    INTEGER     NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    -- When the last message was sent (the creation until then): rooms list by it.
    active_at   TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (listing_id, buyer_id),
    CHECK (seller_id <> buyer_id)
);

CREATE INDEX chat_rooms_seller ON chat_rooms (seller_id);
CREATE INDEX chat_rooms_buyer ON chat_rooms (buyer_id);

CREATE TABLE chat_members (
    room_id        BIGINT      NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    user_id        BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Everything up to this sequence number is read (one's own messages count as read).
    last_read_seq  INTEGER     NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
    -- A CHAT_MESSAGE notification waits unread: no other one until the member reads.
    notified       BOOLEAN     NOT NULL DEFAULT false,
    left_at        TIMESTAMPTZ,
    PRIMARY KEY (room_id, user_id)
);

CREATE INDEX chat_members_user ON chat_members (user_id, room_id);

CREATE TABLE chat_messages (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id     BIGINT      NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    seq         INTEGER     NOT NULL CHECK (seq > 0),
    sender_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Chosen by the client: a resend with the same id returns the stored message.
    client_id   UUID        NOT NULL,
    text        TEXT        CHECK (char_length(text) BETWEEN 1 AND 2000),
    image_key   TEXT        CHECK (length(image_key) BETWEEN 1 AND 300),
    hidden_at   TIMESTAMPTZ,
    deleted_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (room_id, seq),
    UNIQUE (sender_id, client_id),
    CHECK ((text IS NULL) <> (image_key IS NULL))
);

-- Blocking someone stops their messages and rooms towards the blocker.
CREATE TABLE user_blocks (
    blocker_id  BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id  BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);

CREATE INDEX user_blocks_blocked ON user_blocks (blocked_id);

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE'));

ALTER TABLE reports DROP CONSTRAINT reports_target_type_check,
    ADD CONSTRAINT reports_target_type_check
        CHECK (target_type IN ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE'));

ALTER TABLE moderation_log DROP CONSTRAINT moderation_log_target_type_check,
    ADD CONSTRAINT moderation_log_target_type_check
        CHECK (target_type IN ('POST', 'COMMENT', 'LISTING', 'CHAT_MESSAGE'));
