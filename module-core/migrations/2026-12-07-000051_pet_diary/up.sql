-- A pet's growth diary: dated entries with words and up to 5 photos, beside its weights. Private
-- by default; public entries show on the owner's profile (`GET /users/{id}/diary`).
CREATE TABLE pet_diary_entries (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pet_id      BIGINT      NOT NULL REFERENCES pets (id) ON DELETE CASCADE,
    day         DATE        NOT NULL,
    text        TEXT        NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
    image_keys  TEXT[]      NOT NULL DEFAULT '{}' CHECK (cardinality(image_keys) <= 5),
    public      BOOLEAN     NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- A pet's diary, newest day first (the owner's pages).
CREATE INDEX pet_diary_entries_by_day ON pet_diary_entries (pet_id, day DESC, id DESC);
-- Only what others may read (the profile's pages).
CREATE INDEX pet_diary_entries_public ON pet_diary_entries (pet_id, day DESC, id DESC) WHERE public;
