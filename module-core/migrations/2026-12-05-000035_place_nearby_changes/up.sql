-- When what a nearest-first search knows of a place (its position, category, pet sizes and
-- visibility) last changed, whoever changed it: each API instance keeps the visible places'
-- points in memory and reads the changes since its previous look (`place/nearby.rs`).
ALTER TABLE places ADD COLUMN nearby_changed_at TIMESTAMPTZ NOT NULL DEFAULT now();

CREATE FUNCTION places_nearby_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT'
       OR (OLD.lat, OLD.lng, OLD.category, OLD.pet_sizes, OLD.hidden_at, OLD.deleted_at)
          IS DISTINCT FROM (NEW.lat, NEW.lng, NEW.category, NEW.pet_sizes, NEW.hidden_at, NEW.deleted_at)
    THEN
        -- The moment of the write, not the transaction's start: closer to when it commits.
        NEW.nearby_changed_at := clock_timestamp();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER places_nearby_changed
    BEFORE INSERT OR UPDATE OF lat, lng, category, pet_sizes, hidden_at, deleted_at ON places
    FOR EACH ROW EXECUTE FUNCTION places_nearby_changed();

CREATE INDEX places_nearby_changed ON places (nearby_changed_at);
