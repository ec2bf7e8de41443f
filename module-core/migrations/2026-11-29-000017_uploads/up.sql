-- Every object a client was allowed to upload: the key is made by the server under its
-- owner's id, and content refers to it only after the server checked the object.
CREATE TABLE uploads (
    key            TEXT        PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200),
    owner_id       BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose        TEXT        NOT NULL CHECK (purpose IN ('PET', 'POST', 'TRADE', 'CHAT', 'ALBUM',
                                                           'PLACE_REVIEW', 'ITEM', 'ITEM_REVIEW')),
    content_type   TEXT        NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png',
                                                                'image/webp', 'image/gif')),
    content_length BIGINT      NOT NULL CHECK (content_length BETWEEN 1 AND 10485760),
    created_at     TIMESTAMPTZ NOT NULL,
    -- Set the first time content accepted the key; unattached uploads are removed after a day.
    attached_at    TIMESTAMPTZ
);

CREATE INDEX uploads_unattached ON uploads (created_at) WHERE attached_at IS NULL;
CREATE INDEX uploads_pending_by_owner ON uploads (owner_id) WHERE attached_at IS NULL;
