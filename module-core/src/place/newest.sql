-- Visible places, newest first, without a position. Filters: category $1, pet size $2, every
-- word pattern $3 in the name or address (the words $4 narrow through the GIN index first),
-- open at ISO weekday $5 and time $6; before the place $7; $8 the reader (none for a guest); $9 rows.
SELECT p.*,
       NULL::float8 AS distance_m,
       NULL::float8 AS chord_m,
       $8::bigint IS NOT NULL
       AND EXISTS (SELECT 1 FROM place_likes l WHERE l.place_id = p.id AND l.user_id = $8)
           AS liked_by_me
  FROM places p
 WHERE p.deleted_at IS NULL AND p.hidden_at IS NULL
   AND ($1::text IS NULL OR p.category = $1)
   AND ($2::text IS NULL OR $2 = ANY (p.pet_sizes))
   AND ($3::text[] IS NULL
        OR (search_grams(p.name || ' ' || p.address) @@ search_query($4)
            AND (p.name || ' ' || p.address) ILIKE ALL ($3)))
   AND ($5::int2 IS NULL OR EXISTS (
         SELECT 1 FROM place_hours h
          WHERE h.place_id = p.id
            AND ((h.weekday = $5 AND h.opens <= $6 AND (h.closes > $6 OR h.closes < h.opens))
              OR (h.weekday = CASE WHEN $5 = 1 THEN 7 ELSE $5 - 1 END
                  AND h.closes < h.opens AND $6 < h.closes))))
   AND ($7::bigint IS NULL OR p.id < $7)
 ORDER BY p.id DESC
 LIMIT $9
