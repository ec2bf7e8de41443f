DROP INDEX album_photos_image;
CREATE UNIQUE INDEX album_photos_image ON album_photos (image_key) WHERE deleted_at IS NULL;
CREATE INDEX album_photos_image_key ON album_photos (image_key);
