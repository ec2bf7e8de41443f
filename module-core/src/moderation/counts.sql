-- How much a member wrote of each kind (and how much of it is hidden or deleted), and how many
-- reports they made. Binds: $1 the member.
SELECT p.total AS posts_total, p.hidden AS posts_hidden, p.deleted AS posts_deleted,
       c.total AS comments_total, c.hidden AS comments_hidden, c.deleted AS comments_deleted,
       l.total AS listings_total, l.hidden AS listings_hidden, l.deleted AS listings_deleted,
       m.total AS chat_messages_total, m.hidden AS chat_messages_hidden,
       m.deleted AS chat_messages_deleted,
       (SELECT count(*) FROM reports WHERE reporter_id = $1) AS reports_made
  FROM (SELECT count(*) AS total,
               count(*) FILTER (WHERE hidden_at IS NOT NULL) AS hidden,
               count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted
          FROM posts WHERE author_id = $1) p,
       (SELECT count(*) AS total,
               count(*) FILTER (WHERE hidden_at IS NOT NULL) AS hidden,
               count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted
          FROM post_comments WHERE author_id = $1) c,
       (SELECT count(*) AS total,
               count(*) FILTER (WHERE hidden_at IS NOT NULL) AS hidden,
               count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted
          FROM listings WHERE seller_id = $1) l,
       (SELECT count(*) AS total,
               count(*) FILTER (WHERE hidden_at IS NOT NULL) AS hidden,
               count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted
          FROM chat_messages WHERE sender_id = $1) m
