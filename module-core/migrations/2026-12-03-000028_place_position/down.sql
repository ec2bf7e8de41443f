ALTER TABLE places DROP COLUMN position;
CREATE INDEX places_position ON places USING gist (ll_to_earth(lat, lng))
    WHERE deleted_at IS NULL AND hidden_at IS NULL;
