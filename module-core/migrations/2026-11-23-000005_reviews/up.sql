-- Item reviews: one per paid order line, by its buyer.

CREATE TABLE item_reviews (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_line_id BIGINT      NOT NULL UNIQUE REFERENCES order_lines (id) ON DELETE CASCADE,
    item_id       BIGINT      NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    user_id       BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stars         SMALLINT    NOT NULL CHECK (stars BETWEEN 1 AND 5),
    content       TEXT        NOT NULL CHECK (length(content) BETWEEN 1 AND 2000),
    image_keys    TEXT[]      NOT NULL DEFAULT '{}' CHECK (cardinality(image_keys) <= 5),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX item_reviews_item ON item_reviews (item_id, id DESC);
CREATE INDEX item_reviews_user ON item_reviews (user_id);
