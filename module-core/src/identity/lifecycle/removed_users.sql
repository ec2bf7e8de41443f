-- Which of the accounts being deleted are removed entirely: those nothing others depend on
-- keeps — no order, no subscription, and no comment of theirs that others replied to (its
-- removal would take the replies with it). The others stay as anonymous rows. $1 user ids.
SELECT u.id
  FROM users u
 WHERE u.id = ANY($1)
   AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id)
   AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = u.id)
   AND NOT EXISTS (SELECT 1
                     FROM post_comments c
                     JOIN post_comments reply ON reply.parent_id = c.id
                    WHERE c.author_id = u.id AND reply.author_id <> u.id)
