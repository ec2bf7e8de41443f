-- Visible places within $3 metres of ($1 lat, $2 lng), nearest first. Filters: category $4, pet
-- size $5, every word pattern $6 in the name or address, open at ISO weekday $7 and time $8 (an
-- opening of the day before that runs past midnight counts); the keyset cursor ($9 chord, $10
-- id); $11 the reader, for their like (none for a guest, whose plan then reads no likes); $12
-- rows.
--
-- Places are ordered by `chord_m`, the straight line through the earth between the stored
-- `position` and the centre (cube's `<->`), which orders exactly as the great-circle distance
-- does and which the GiST index on `position` walks nearest first (a KNN scan, bounded by the
-- radius's box): only the first $12 matches are read, however many places the radius holds.
-- That walk orders by distance alone, so a second, small read takes every match up to the
-- farthest of those (its ties too) and orders them by (chord_m, id), which the cursor continues
-- from.
WITH centre AS MATERIALIZED (
  SELECT ll_to_earth($1, $2)::cube AS point, gc_to_sec($3) AS radius
), matching AS NOT MATERIALIZED (
  SELECT p.*,
         p.position <-> (SELECT point FROM centre) AS chord_m
    FROM places p
   WHERE p.deleted_at IS NULL AND p.hidden_at IS NULL
     AND p.position <@ cube_enlarge((SELECT point FROM centre), (SELECT radius FROM centre), 3)
     AND p.position <-> (SELECT point FROM centre) <= (SELECT radius FROM centre)
     AND ($4::text IS NULL OR p.category = $4)
     AND ($5::text IS NULL OR $5 = ANY (p.pet_sizes))
     AND ($6::text[] IS NULL OR (p.name || ' ' || p.address) ILIKE ALL ($6))
     AND ($7::int2 IS NULL OR EXISTS (
           SELECT 1 FROM place_hours h
            WHERE h.place_id = p.id
              AND ((h.weekday = $7 AND h.opens <= $8 AND (h.closes > $8 OR h.closes < h.opens))
                OR (h.weekday = CASE WHEN $7 = 1 THEN 7 ELSE $7 - 1 END
                    AND h.closes < h.opens AND $8 < h.closes))))
     AND ($9::float8 IS NULL
          OR (p.position <-> (SELECT point FROM centre), p.id) > ($9, $10::bigint))
), farthest AS (
  SELECT max(chord_m) AS chord_m
    FROM (SELECT chord_m FROM matching ORDER BY chord_m LIMIT $12) AS nearest
)
SELECT m.*,
       sec_to_gc(m.chord_m) AS distance_m,
       $11::bigint IS NOT NULL
       AND EXISTS (SELECT 1 FROM place_likes l WHERE l.place_id = m.id AND l.user_id = $11)
           AS liked_by_me
  FROM matching m
 WHERE m.chord_m <= COALESCE((SELECT chord_m FROM farthest), 'Infinity')
   -- The box of that distance (and a millimetre), for the index.
   AND m.position <@ cube_enlarge((SELECT point FROM centre),
                                  COALESCE((SELECT chord_m FROM farthest) + 0.001,
                                           (SELECT radius FROM centre)), 3)
 ORDER BY m.chord_m, m.id
 LIMIT $12
