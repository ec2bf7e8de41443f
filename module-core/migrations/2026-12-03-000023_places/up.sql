-- Pet-friendly places. Positions are searched with `earthdistance` over `cube` (contrib, part of
-- every PostgreSQL install): a GiST index on ll_to_earth(lat, lng) answers radius and
-- nearest-first queries without a scan, and needs no PostGIS install.
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

CREATE TABLE places (
    id              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Kakao Local's place id, for imports that do not duplicate.
    kakao_id        TEXT        UNIQUE CHECK (length(kakao_id) BETWEEN 1 AND 50),
    name            TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    category        TEXT        NOT NULL CHECK (category IN ('RESTAURANT', 'CAFE', 'STAY', 'PARK',
                                                             'HOSPITAL', 'PET_SHOP', 'ETC')),
    address         TEXT        NOT NULL CHECK (length(address) BETWEEN 1 AND 200),
    road_address    TEXT        NOT NULL DEFAULT '' CHECK (length(road_address) <= 200),
    lat             DOUBLE PRECISION NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng             DOUBLE PRECISION NOT NULL CHECK (lng BETWEEN -180 AND 180),
    phone           TEXT        NOT NULL DEFAULT '' CHECK (length(phone) <= 30),
    -- Pet policy.
    pet_sizes       TEXT[]      NOT NULL DEFAULT '{}'
                                CHECK (pet_sizes <@ ARRAY['SMALL', 'MEDIUM', 'LARGE']),
    indoor_allowed  BOOLEAN     NOT NULL DEFAULT false,
    leash_required  BOOLEAN     NOT NULL DEFAULT true,
    extra_fee       INTEGER     NOT NULL DEFAULT 0 CHECK (extra_fee BETWEEN 0 AND 1000000),
    homepage        TEXT        NOT NULL DEFAULT '' CHECK (length(homepage) <= 300),
    image_keys      TEXT[]      NOT NULL DEFAULT '{}' CHECK (cardinality(image_keys) <= 10),
    like_count      INTEGER     NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    review_count    INTEGER     NOT NULL DEFAULT 0 CHECK (review_count >= 0),
    star_sum        INTEGER     NOT NULL DEFAULT 0 CHECK (star_sum >= 0),
    hidden_at       TIMESTAMPTZ,
    deleted_at      TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX places_position ON places USING gist (ll_to_earth(lat, lng))
    WHERE deleted_at IS NULL AND hidden_at IS NULL;
CREATE INDEX places_newest ON places (id DESC) WHERE deleted_at IS NULL AND hidden_at IS NULL;
CREATE INDEX places_search ON places USING gin (search_grams(name || ' ' || address))
    WHERE deleted_at IS NULL AND hidden_at IS NULL;

-- Opening hours: one row per weekday opening (ISO weekday 1 = Monday); `closes` before
-- `opens` runs past midnight.
CREATE TABLE place_hours (
    place_id  BIGINT   NOT NULL REFERENCES places (id) ON DELETE CASCADE,
    weekday   SMALLINT NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens     TIME     NOT NULL,
    closes    TIME     NOT NULL,
    PRIMARY KEY (place_id, weekday, opens),
    CHECK (opens <> closes)
);

CREATE TABLE place_likes (
    place_id    BIGINT      NOT NULL REFERENCES places (id) ON DELETE CASCADE,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (place_id, user_id)
);

CREATE INDEX place_likes_user ON place_likes (user_id, created_at DESC);
CREATE INDEX place_likes_recent ON place_likes (created_at, place_id);

-- Places' own photos are uploads of their own purpose (admins only, as items').
ALTER TABLE uploads DROP CONSTRAINT uploads_purpose_check,
    ADD CONSTRAINT uploads_purpose_check CHECK (purpose IN ('PET', 'POST', 'TRADE', 'CHAT', 'ALBUM',
        'PLACE_REVIEW', 'PLACE', 'ITEM', 'ITEM_REVIEW'));
