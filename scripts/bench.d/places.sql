-- Places benchmark data, set-based: :places places over South Korea (a fifth of them in and
-- around Seoul, where people are), :users members and :likes likes (skewed: a few places are
-- liked by many, most by few; spread over the last year), loaded under the schema's own
-- indexes, rebuilt after the load. `places.like_count` is made to agree with the likes.
-- psql -v places=1000000 -v users=100000 -v likes=5000000 -f places.sql
\set ON_ERROR_STOP on
SET maintenance_work_mem = '512MB';
SELECT setseed(0.42) AS seeded \gset
SET bench.likes = :likes;

CREATE TEMP TABLE saved_indexes AS
SELECT indexname, indexdef FROM pg_indexes
 WHERE tablename IN ('places', 'place_likes') AND indexname NOT LIKE '%_pkey'
   AND indexname NOT LIKE '%_key';
DO $$
DECLARE name text;
BEGIN
  FOR name IN SELECT indexname FROM saved_indexes LOOP
    EXECUTE format('DROP INDEX %I', name);
  END LOOP;
END $$;

INSERT INTO users (email, password_hash, name, status_changed_at, created_at, updated_at)
SELECT 'liker-' || n || '@bench.petory', 'no login', '회원 ' || n, now(), now(), now()
  FROM generate_series(1, :users) AS n;

INSERT INTO places (name, category, address, lat, lng, pet_sizes, indoor_allowed, image_keys,
                    created_at, updated_at)
SELECT (ARRAY['댕댕', '멍멍', '냥냥', '펫', '반려', '포근한', '산책길', '초록'])[1 + n % 8] || ' '
         || (ARRAY['식당', '카페', '펜션', '공원', '동물병원', '펫샵', '놀이터'])[1 + n % 7] || ' ' || n,
       (ARRAY['RESTAURANT', 'CAFE', 'STAY', 'PARK', 'HOSPITAL', 'PET_SHOP', 'ETC'])[1 + n % 7],
       CASE WHEN seoul THEN '서울 ' ELSE '대한민국 ' END || '어딘가로 ' || n,
       CASE WHEN seoul THEN 37.5665 + (random() - 0.5) * 0.36 ELSE 34.6 + random() * 3.6 END,
       CASE WHEN seoul THEN 126.9780 + (random() - 0.5) * 0.45 ELSE 126.3 + random() * 3.0 END,
       CASE n % 3 WHEN 0 THEN ARRAY['SMALL'] WHEN 1 THEN ARRAY['SMALL', 'MEDIUM']
                  ELSE ARRAY['SMALL', 'MEDIUM', 'LARGE'] END,
       n % 2 = 0,
       CASE WHEN n % 4 = 0 THEN ARRAY['bench/place-' || n || '.jpg'] ELSE '{}' END,
       now() - make_interval(secs => :places - n),
       now() - make_interval(secs => :places - n)
  FROM (SELECT n, n % 5 = 0 AS seoul FROM generate_series(1, :places) AS n) AS spread;

-- Likes: distinct (place, member) pairs, the place drawn with a cubic skew towards the first.
INSERT INTO place_likes (place_id, user_id, created_at)
SELECT place_id, user_id, now() - random() * interval '365 days'
  FROM (SELECT DISTINCT first_place + floor(power(random(), 3) * :places)::bigint AS place_id,
               first_user + floor(random() * :users)::bigint AS user_id
          FROM generate_series(1, :likes * 13 / 10),
               (SELECT min(id) AS first_place FROM places) AS p,
               (SELECT min(id) AS first_user FROM users WHERE email LIKE 'liker-%@bench.petory') AS u
       ) AS pairs
 LIMIT :likes;

DO $$
BEGIN
  IF (SELECT count(*) FROM place_likes) < current_setting('bench.likes')::bigint THEN
    RAISE EXCEPTION 'fewer distinct likes than asked';
  END IF;
END $$;

UPDATE places SET like_count = liked.n
  FROM (SELECT place_id, count(*) AS n FROM place_likes GROUP BY place_id) AS liked
 WHERE places.id = liked.place_id;

DO $$
DECLARE def text;
BEGIN
  FOR def IN SELECT indexdef FROM saved_indexes LOOP
    EXECUTE def;
  END LOOP;
END $$;
VACUUM ANALYZE places;
VACUUM ANALYZE place_likes;
VACUUM ANALYZE users;
