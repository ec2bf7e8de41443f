-- Each place's likes of the last seven days ($1: since), kept for the ranking PostgreSQL
-- answers while Redis cannot: places no longer liked that week go, the others are set, rows
-- whose count did not move are left alone.
WITH fresh AS (
  SELECT place_id, count(*)::int AS likes
    FROM place_likes
   WHERE created_at > $1
   GROUP BY place_id),
gone AS (
  DELETE FROM place_week_likes w
   WHERE NOT EXISTS (SELECT 1 FROM fresh f WHERE f.place_id = w.place_id))
INSERT INTO place_week_likes (place_id, likes)
SELECT place_id, likes FROM fresh
    ON CONFLICT (place_id) DO UPDATE SET likes = EXCLUDED.likes
 WHERE place_week_likes.likes <> EXCLUDED.likes
