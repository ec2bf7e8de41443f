-- Claims up to $2 liked posts whose author was not told since $1 (SKIP LOCKED: instances
-- share them), forgets that they are untold, and counts each one's likes after the last told:
-- not its author's own, none between members either side blocks, none of a deleted post, none
-- for an author who is away (dormant or withdrawn: their untold likes are forgotten).
WITH due AS (
    SELECT u.post_id
    FROM post_likes_untold u
    LEFT JOIN post_like_notices n ON n.post_id = u.post_id
    WHERE n.notified_at IS NULL OR n.notified_at <= $1
    ORDER BY u.post_id
    LIMIT $2
    FOR UPDATE OF u SKIP LOCKED
), claimed AS (
    DELETE FROM post_likes_untold u USING due
    WHERE u.post_id = due.post_id
    RETURNING u.post_id
)
SELECT p.id AS post_id, p.author_id, p.title, count(*) AS like_count,
       max(l.id) AS last_like_id
FROM claimed c
JOIN posts p ON p.id = c.post_id AND p.deleted_at IS NULL
JOIN users a ON a.id = p.author_id AND a.status IN ('ACTIVE', 'SUSPENDED')
JOIN post_likes l ON l.post_id = p.id AND l.user_id <> p.author_id
LEFT JOIN post_like_notices n ON n.post_id = p.id
WHERE l.id > coalesce(n.last_like_id, 0)
  AND NOT EXISTS (
      SELECT 1 FROM user_blocks b
      WHERE (b.blocker_id = l.user_id AND b.blocked_id = p.author_id)
         OR (b.blocker_id = p.author_id AND b.blocked_id = l.user_id))
GROUP BY p.id, p.author_id, p.title
ORDER BY p.id
