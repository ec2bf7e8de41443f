-- A place's rating (`review_count`, `star_sum`) counts the live reviews readers see: reviews
-- hidden by moderation used to stay in it. Count again the places that have such a review
-- (elsewhere the two rules agree), locked in id order as the account removal locks them.
WITH affected AS (
    SELECT p.id
      FROM places p
     WHERE EXISTS (SELECT 1 FROM place_reviews r
                    WHERE r.place_id = p.id AND r.hidden_at IS NOT NULL AND r.deleted_at IS NULL)
     ORDER BY p.id
       FOR UPDATE
)
UPDATE places p
   SET review_count = (SELECT count(*) FROM place_reviews r
                        WHERE r.place_id = p.id AND r.deleted_at IS NULL AND r.hidden_at IS NULL),
       star_sum = (SELECT coalesce(sum(r.stars), 0) FROM place_reviews r
                    WHERE r.place_id = p.id AND r.deleted_at IS NULL AND r.hidden_at IS NULL)
  FROM affected
 WHERE p.id = affected.id;
