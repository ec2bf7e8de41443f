-- Used pet goods for sale between owners.
CREATE TABLE listings (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seller_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category    TEXT        NOT NULL CHECK (category IN ('FOOD', 'GOODS', 'TOY', 'FASHION', 'ETC')),
    title       TEXT        NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    content     TEXT        NOT NULL CHECK (length(content) BETWEEN 1 AND 5000),
    price       BIGINT      NOT NULL CHECK (price BETWEEN 0 AND 100000000),
    region      TEXT        NOT NULL CHECK (length(region) BETWEEN 1 AND 50),
    image_keys  TEXT[]      NOT NULL DEFAULT '{}' CHECK (cardinality(image_keys) <= 10),
    status      TEXT        NOT NULL DEFAULT 'FOR_SALE' CHECK (status IN ('FOR_SALE', 'RESERVED', 'SOLD')),
    -- Buyers who opened a chat about it (kept by the chat's transactions).
    chat_count  INTEGER     NOT NULL DEFAULT 0 CHECK (chat_count >= 0),
    hidden_at   TIMESTAMPTZ,
    deleted_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX listings_feed ON listings (id DESC) WHERE deleted_at IS NULL AND hidden_at IS NULL;
CREATE INDEX listings_by_status ON listings (status, id DESC)
    WHERE deleted_at IS NULL AND hidden_at IS NULL;
CREATE INDEX listings_by_category ON listings (category, id DESC)
    WHERE deleted_at IS NULL AND hidden_at IS NULL;
CREATE INDEX listings_seller ON listings (seller_id, id);
CREATE INDEX listings_search ON listings USING gin (search_grams(title || ' ' || content))
    WHERE deleted_at IS NULL AND hidden_at IS NULL;
