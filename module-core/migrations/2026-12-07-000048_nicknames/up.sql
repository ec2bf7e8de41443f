-- Members appear to others by a nickname of their choosing (2 to 20 characters, unique whatever
-- the case, changed at most once in 30 days), with a short bio; the name they signed up with is
-- private. Existing members, and new ones who give none, get `회원<id>` (which no one may choose).
ALTER TABLE users
    ADD COLUMN nickname            TEXT,
    ADD COLUMN nickname_changed_at TIMESTAMPTZ,
    ADD COLUMN bio                 TEXT NOT NULL DEFAULT '' CHECK (char_length(bio) <= 300);

UPDATE users SET nickname = '회원' || id WHERE status <> 'WITHDRAWN';

CREATE FUNCTION users_generated_nickname() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.nickname IS NULL AND NEW.status <> 'WITHDRAWN' THEN
        NEW.nickname := '회원' || NEW.id;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER users_generated_nickname BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION users_generated_nickname();

-- A withdrawn member has none: their content shows the placeholder their name became.
ALTER TABLE users
    ADD CONSTRAINT users_nickname_present CHECK (nickname IS NOT NULL OR status = 'WITHDRAWN'),
    ADD CONSTRAINT users_nickname_length CHECK (char_length(nickname) BETWEEN 2 AND 20);
CREATE UNIQUE INDEX users_nickname_unique ON users (lower(nickname));

-- Others see the nickname (the placeholder name of a withdrawn member, who has none).
DROP FUNCTION public_name(text);
CREATE FUNCTION public_name(nickname text, name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(nickname, name) $$;
