-- How a member's name shows to others on community content and in chat: the first character,
-- then `**`, so neither the name nor its length is given away (until members choose nicknames).
-- One rule for every query that shows a name to someone else.
CREATE FUNCTION public_name(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT left(name, 1) || '**' $$;
