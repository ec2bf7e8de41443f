-- The admin queue: reports with their reporter and what they point at, newest first.
-- Each kind of content is one arm of the LATERAL union: a new kind is a new arm, not a table.
SELECT r.*,
       reporter.name AS reporter_name,
       target.author_id AS target_author_id,
       author.name AS target_author_name,
       target.excerpt AS target_excerpt,
       coalesce(target.hidden, false) AS target_hidden,
       -- Gone altogether (its author's account was erased) counts as deleted.
       coalesce(target.deleted, true) AS target_deleted,
       (SELECT count(*)
          FROM reports open
         WHERE open.target_type = r.target_type AND open.target_id = r.target_id
           AND open.status = 'OPEN') AS open_reports
  FROM reports r
  JOIN users reporter ON reporter.id = r.reporter_id
  LEFT JOIN LATERAL (
        SELECT author_id, left(title, 100) AS excerpt,
               hidden_at IS NOT NULL AS hidden, deleted_at IS NOT NULL AS deleted
          FROM posts WHERE r.target_type = 'POST' AND id = r.target_id
        UNION ALL
        SELECT author_id, left(content, 100),
               hidden_at IS NOT NULL, deleted_at IS NOT NULL
          FROM post_comments WHERE r.target_type = 'COMMENT' AND id = r.target_id
        UNION ALL
        SELECT seller_id, left(title, 100),
               hidden_at IS NOT NULL, deleted_at IS NOT NULL
          FROM listings WHERE r.target_type = 'LISTING' AND id = r.target_id
        UNION ALL
        SELECT sender_id, left(coalesce(text, '[image] ' || image_key), 100),
               hidden_at IS NOT NULL, deleted_at IS NOT NULL
          FROM chat_messages WHERE r.target_type = 'CHAT_MESSAGE' AND id = r.target_id
        UNION ALL
        SELECT author_id, left(content, 100),
               hidden_at IS NOT NULL, deleted_at IS NOT NULL
          FROM place_reviews WHERE r.target_type = 'PLACE_REVIEW' AND id = r.target_id
        UNION ALL
        SELECT NULL::bigint, left(name, 100),
               hidden_at IS NOT NULL, deleted_at IS NOT NULL
          FROM places WHERE r.target_type = 'PLACE' AND id = r.target_id
        UNION ALL
        SELECT user_id, left(coalesce(nullif(caption, ''), '[photo] ' || day), 100),
               hidden_at IS NOT NULL, deleted_at IS NOT NULL
          FROM album_photos WHERE r.target_type = 'ALBUM_PHOTO' AND id = r.target_id
       ) target ON true
  LEFT JOIN users author ON author.id = target.author_id
 WHERE ($1::text IS NULL OR r.status = $1)
   AND ($2::text IS NULL OR r.target_type = $2)
   AND ($3::bigint IS NULL OR r.target_id = $3)
   AND ($4::bigint IS NULL OR r.id = $4)
   AND ($5::bigint IS NULL OR r.id < $5)
 ORDER BY r.id DESC
 LIMIT $6
