DROP TABLE view_flushes;
DROP TABLE post_likes;
DROP TABLE post_comments;
DROP TABLE posts;
DROP FUNCTION search_query(TEXT);
DROP FUNCTION search_grams(TEXT);
