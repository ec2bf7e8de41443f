DELETE FROM uploads WHERE owner_id IS NULL;
ALTER TABLE uploads
    ALTER COLUMN owner_id SET NOT NULL,
    DROP CONSTRAINT uploads_owner_id_fkey,
    ADD CONSTRAINT uploads_owner_id_fkey
        FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE;
