-- pgbench: the board's first-page query (as the API sends it) for a page deep in the board,
-- by keyset (:cursor, the id the page starts below) or by OFFSET (:offset rows skipped).
SELECT p.id, p.category, p.title, left(p.content, 120), p.author_id,
       (SELECT u.name FROM users u WHERE u.id = p.author_id), p.like_count,
       p.comment_count, p.view_count, p.image_keys[1],
       EXISTS (SELECT 1 FROM post_likes l WHERE l.post_id = p.id AND l.user_id = :me),
       p.created_at
  FROM posts p
 WHERE p.deleted_at IS NULL AND p.hidden_at IS NULL AND p.id < :cursor
 ORDER BY p.id DESC
 LIMIT 21 OFFSET :offset;
