-- Members are told when someone answers them (a comment on their post, a reply to their
-- comment), and choose per kind and channel what reaches them.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY', 'POST_COMMENTED', 'COMMENT_REPLIED'));

-- A member's choices, one row per kind they changed; a kind without a row has the defaults
-- (in the app and by push, not by mail).
CREATE TABLE notification_settings (
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT        NOT NULL CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY', 'POST_COMMENTED', 'COMMENT_REPLIED')),
    in_app     BOOLEAN     NOT NULL,
    push       BOOLEAN     NOT NULL,
    mail       BOOLEAN     NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- The daily question's switch becomes its kind's in-app setting: one place for every choice.
INSERT INTO notification_settings (user_id, kind, in_app, push, mail, updated_at)
SELECT id, 'DAILY_QUESTION', false, true, false, now() FROM users WHERE NOT notify_daily_question;
ALTER TABLE users DROP COLUMN notify_daily_question;

-- Chat rooms a member muted: no notification of their messages.
ALTER TABLE chat_members ADD COLUMN muted BOOLEAN NOT NULL DEFAULT false;
