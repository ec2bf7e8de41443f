-- Community benchmark data, set-based: :users members, :posts posts (with `5 × posts`
-- comments and one like each), all under the schema's own indexes, rebuilt after the load.
-- psql -v users=10000 -v posts=1000000 -f community.sql
\set ON_ERROR_STOP on
SET maintenance_work_mem = '512MB';

CREATE TEMP TABLE saved_indexes AS
SELECT indexname, indexdef FROM pg_indexes
 WHERE tablename IN ('posts', 'post_comments', 'post_likes') AND indexname NOT LIKE '%_pkey';
DO $$
DECLARE name text;
BEGIN
  FOR name IN SELECT indexname FROM saved_indexes LOOP
    EXECUTE format('DROP INDEX %I', name);
  END LOOP;
END $$;

INSERT INTO users (email, password_hash, name, status_changed_at, created_at, updated_at)
SELECT 'member-' || n || '@bench.petory', 'no login', '회원 ' || n, now(), now(), now()
  FROM generate_series(1, :users) AS n;

-- Titles and contents from a vocabulary of pet words, so searches match what users type.
CREATE TEMP TABLE vocabulary AS
SELECT ARRAY['산책', '산책로', '간식', '사료', '목욕', '미용', '병원', '예방접종', '중성화',
             '훈련', '배변', '장난감', '하네스', '캣타워', '츄르', '고양이', '강아지', '말티즈',
             '푸들', '진돗개', '리트리버', '코리안숏헤어', '페르시안', '러시안블루', '치와와',
             '웰시코기', '비숑', '포메라니안', '시바견', '사진', '자랑', '일상', '질문', '정보',
             '후기', '추천', '분양', '입양', '유기견', '보호소', '한강', '공원', '카페', '여행',
             '캠핑', '바다', '눈', '비', '겨울', '여름', '봄', '가을', '생일', '기념일', '첫눈',
             '낮잠', '털갈이', '발톱', '양치', '귀청소', '다이어트', '체중', '건강검진', '슬개골',
             '피부', '알레르기', '구토', '설사', '기침', '노견', '노묘', '아기', '새끼', '형제',
             'walk', 'treat', 'puppy', 'kitten', 'vet', 'toy'] AS words;

INSERT INTO posts (author_id, category, title, content, like_count, comment_count,
                   created_at, updated_at)
SELECT first_user + (n % :users),
       (ARRAY['DAILY', 'QUESTION', 'INFO', 'SHOW_OFF'])[1 + n % 4],
       w[1 + abs(hashint4(n)) % 80] || ' ' || w[1 + abs(hashint4(n + 1)) % 80] || ' ' || n,
       -- One post in 10,000 is about a pet that crossed the rainbow bridge: a rare word.
       CASE WHEN n % 10000 = 0 THEN '무지개다리 ' ELSE '' END
         || w[1 + abs(hashint4(n + 2)) % 80] || ' ' || w[1 + abs(hashint4(n + 3)) % 80] || ' '
         || w[1 + abs(hashint4(n + 4)) % 80] || '에 대해 이야기해요. 오늘도 '
         || w[1 + abs(hashint4(n + 5)) % 80] || ' 했어요.',
       1, 5,
       now() - make_interval(secs => :posts - n),
       now() - make_interval(secs => :posts - n)
  FROM generate_series(1, :posts) AS n,
       (SELECT words AS w FROM vocabulary) AS v,
       (SELECT min(id) AS first_user FROM users WHERE email LIKE 'member-%@bench.petory') AS u;

INSERT INTO post_comments (post_id, author_id, content, created_at, updated_at)
SELECT p.first_post + (n % :posts), u.first_user + (n % :users), '좋아요! 댓글 ' || n, now(), now()
  FROM generate_series(0, 5 * :posts - 1) AS n,
       (SELECT min(id) AS first_post FROM posts) AS p,
       (SELECT min(id) AS first_user FROM users WHERE email LIKE 'member-%@bench.petory') AS u;

INSERT INTO post_likes (post_id, user_id, created_at)
SELECT id, first_user + (id % :users), created_at
  FROM posts, (SELECT min(id) AS first_user FROM users WHERE email LIKE 'member-%@bench.petory') AS u;

DO $$
DECLARE definition text;
BEGIN
  FOR definition IN SELECT indexdef FROM saved_indexes LOOP
    EXECUTE definition;
  END LOOP;
END $$;
VACUUM ANALYZE users, posts, post_comments, post_likes;
