DROP FUNCTION public_name(text, text);
CREATE FUNCTION public_name(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT left(name, 1) || '**' $$;
DROP TRIGGER users_generated_nickname ON users;
DROP FUNCTION users_generated_nickname();
ALTER TABLE users DROP COLUMN nickname, DROP COLUMN nickname_changed_at, DROP COLUMN bio;
