-- The latest reports of a member's content (what others reported of it), newest first, each with
-- how many there are in all. Each kind with an author is one arm: a new kind is a new arm.
-- Binds: $1 the member, $2 how many.
SELECT r.*, count(*) OVER () AS total
  FROM (
        SELECT r.* FROM reports r JOIN posts t ON t.id = r.target_id
         WHERE r.target_type = 'POST' AND t.author_id = $1
        UNION ALL
        SELECT r.* FROM reports r JOIN post_comments t ON t.id = r.target_id
         WHERE r.target_type = 'COMMENT' AND t.author_id = $1
        UNION ALL
        SELECT r.* FROM reports r JOIN listings t ON t.id = r.target_id
         WHERE r.target_type = 'LISTING' AND t.seller_id = $1
        UNION ALL
        SELECT r.* FROM reports r JOIN chat_messages t ON t.id = r.target_id
         WHERE r.target_type = 'CHAT_MESSAGE' AND t.sender_id = $1
        UNION ALL
        SELECT r.* FROM reports r JOIN place_reviews t ON t.id = r.target_id
         WHERE r.target_type = 'PLACE_REVIEW' AND t.author_id = $1
        UNION ALL
        SELECT r.* FROM reports r JOIN album_photos t ON t.id = r.target_id
         WHERE r.target_type = 'ALBUM_PHOTO' AND t.user_id = $1
       ) r
 ORDER BY r.id DESC
 LIMIT $2
