-- A user's pets and their growth log.
CREATE TABLE pets (
    id            BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 30),
    species       TEXT        NOT NULL CHECK (species IN ('DOG', 'CAT', 'OTHER')),
    breed         TEXT        NOT NULL DEFAULT '' CHECK (length(breed) <= 50),
    birthday      DATE,
    adopted_on    DATE,
    sex           TEXT        NOT NULL DEFAULT 'UNKNOWN' CHECK (sex IN ('MALE', 'FEMALE', 'UNKNOWN')),
    neutered      BOOLEAN     NOT NULL DEFAULT false,
    weight_grams  INTEGER     CHECK (weight_grams BETWEEN 1 AND 200000),
    photo_key     TEXT        REFERENCES uploads (key),
    memo          TEXT        NOT NULL DEFAULT '' CHECK (length(memo) <= 500),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    CHECK (adopted_on IS NULL OR birthday IS NULL OR adopted_on >= birthday)
);

CREATE INDEX pets_owner ON pets (owner_id, id);
CREATE INDEX pets_photo ON pets (photo_key);

-- One weight per pet per day: the chart of its growth.
CREATE TABLE pet_weights (
    pet_id      BIGINT      NOT NULL REFERENCES pets (id) ON DELETE CASCADE,
    measured_on DATE        NOT NULL,
    grams       INTEGER     NOT NULL CHECK (grams BETWEEN 1 AND 200000),
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (pet_id, measured_on)
);
