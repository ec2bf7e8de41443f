-- The posts, places and listings whose counters count rows of accounts about to be removed
-- (likes, comments, reviews, chats): the cascade takes those rows, so the counters are counted
-- again after it. $1 the removed accounts' ids.
SELECT ARRAY(SELECT post_id FROM post_likes WHERE user_id = ANY($1)
             UNION SELECT post_id FROM post_comments WHERE author_id = ANY($1)) AS posts,
       ARRAY(SELECT place_id FROM place_likes WHERE user_id = ANY($1)
             UNION SELECT place_id FROM place_reviews WHERE author_id = ANY($1)) AS places,
       ARRAY(SELECT listing_id FROM chat_rooms WHERE buyer_id = ANY($1)) AS listings
