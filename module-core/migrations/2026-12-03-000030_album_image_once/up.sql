-- An image is one photo's for good, even after moderation took that photo down: otherwise it
-- could be put on a day again, discarded with it, and its upload row removed from under the
-- taken-down photo that still refers to it.
DROP INDEX album_photos_image;
DROP INDEX album_photos_image_key;
CREATE UNIQUE INDEX album_photos_image ON album_photos (image_key);
