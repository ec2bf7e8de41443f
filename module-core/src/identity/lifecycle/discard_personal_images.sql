-- The images of the pets (their photos and diaries), daily photos and avatars of accounts being
-- deleted: discarded, so that the upload job removes their objects (and what was derived from
-- them). $1 user ids, $2 now.
UPDATE uploads
   SET discarded_at = $2
 WHERE owner_id = ANY($1)
   AND discarded_at IS NULL
   AND key IN (SELECT photo_key FROM pets WHERE owner_id = ANY($1) AND photo_key IS NOT NULL
               UNION ALL
               SELECT unnest(d.image_keys) FROM pet_diary_entries d
                 JOIN pets p ON p.id = d.pet_id
                WHERE p.owner_id = ANY($1)
               UNION ALL
               SELECT image_key FROM album_photos WHERE user_id = ANY($1)
               UNION ALL
               SELECT avatar_key FROM users WHERE id = ANY($1) AND avatar_key IS NOT NULL)
