-- The supplement store's catalog and carts.

-- Trigram matching for substring search in Korean and English names (a trusted extension).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE categories (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 50),
    sort_order INT         NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE items (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_id   BIGINT      NOT NULL REFERENCES categories (id) ON DELETE RESTRICT,
    name          TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    brand         TEXT        NOT NULL DEFAULT '' CHECK (length(brand) <= 50),
    description   TEXT        NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    -- Money is integer KRW.
    price         BIGINT      NOT NULL CHECK (price > 0),
    discount_rate SMALLINT    NOT NULL DEFAULT 0 CHECK (discount_rate BETWEEN 0 AND 90),
    sale_price    BIGINT      GENERATED ALWAYS AS (price * (100 - discount_rate) / 100) STORED,
    stock         INT         NOT NULL CHECK (stock >= 0),
    image_keys    TEXT[]      NOT NULL DEFAULT '{}' CHECK (cardinality(image_keys) <= 10),
    rating_sum    BIGINT      NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    review_count  INT         NOT NULL DEFAULT 0 CHECK (review_count >= 0),
    -- Average stars times 100, kept integral so it sorts and pages exactly.
    rating_centi  INT         GENERATED ALWAYS AS (CASE WHEN review_count = 0 THEN 0 ELSE (rating_sum * 100 / review_count)::int END) STORED,
    sales_count   BIGINT      NOT NULL DEFAULT 0 CHECK (sales_count >= 0),
    -- Retired items stay for the orders that reference them.
    is_active     BOOLEAN     NOT NULL DEFAULT true,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX items_category ON items (category_id, id);
CREATE INDEX items_name_trgm ON items USING gin (name gin_trgm_ops);
CREATE INDEX items_brand_trgm ON items USING gin (brand gin_trgm_ops);
CREATE INDEX items_by_sales ON items (sales_count DESC, id DESC) WHERE is_active;
CREATE INDEX items_by_price ON items (sale_price, id) WHERE is_active;
CREATE INDEX items_by_rating ON items (rating_centi DESC, id DESC) WHERE is_active;

CREATE TABLE cart_items (
    id                       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id                  BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id                  BIGINT      NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    quantity                 INT         NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    -- NULL for a one-off purchase; otherwise the subscription's delivery cycle.
    subscription_period_days SMALLINT    CHECK (subscription_period_days IN (30, 60, 90)),
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL
);
-- One line per item and purchase kind in a cart.
CREATE UNIQUE INDEX cart_items_line ON cart_items (user_id, item_id, coalesce(subscription_period_days, 0));
CREATE INDEX cart_items_item ON cart_items (item_id);
