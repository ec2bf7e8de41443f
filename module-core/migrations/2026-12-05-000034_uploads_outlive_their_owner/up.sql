-- An account removed entirely leaves its uploads' rows behind, ownerless and discarded, so that
-- the upload job removes their objects: a cascade took the rows and left the objects stored.
ALTER TABLE uploads
    ALTER COLUMN owner_id DROP NOT NULL,
    DROP CONSTRAINT uploads_owner_id_fkey,
    ADD CONSTRAINT uploads_owner_id_fkey
        FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL;
