-- Each place's point on the earth, computed once when the place is written rather than for
-- every row a search reads: `ll_to_earth` (SQL functions and the `earth` domain's checks) cost
-- more than the rest of a nearest-first page. The position index moves onto it.
ALTER TABLE places ADD COLUMN position cube GENERATED ALWAYS AS (ll_to_earth(lat, lng)::cube) STORED;
DROP INDEX places_position;
CREATE INDEX places_position ON places USING gist (position)
    WHERE deleted_at IS NULL AND hidden_at IS NULL;
