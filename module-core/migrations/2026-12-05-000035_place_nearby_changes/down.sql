DROP TRIGGER places_nearby_changed ON places;
DROP FUNCTION places_nearby_changed();
ALTER TABLE places DROP COLUMN nearby_changed_at;
